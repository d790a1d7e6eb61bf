package dev.conveyor.app.serve;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The data directory holds the ledger, the local token, git caches, build trees and artifacts, so it
 * and the directories {@code serve} keeps in it are owner-only (0700): created so, or tightened at
 * start with a line in the log. Files created inside later keep the process umask but are out of
 * everyone else's reach behind the directory; the ledger file and token are 0600 themselves.
 */
public final class DataDirectory {
  private static final Logger log = LoggerFactory.getLogger(DataDirectory.class);
  static final Set<PosixFilePermission> OWNER_ONLY = PosixFilePermissions.fromString("rwx------");
  /** Subdirectories serve writes: Runway's and the build worker's git caches, build trees, artifacts. */
  static final List<String> PRIVATE = List.of("runway-cache", "build-cache", "builds", "artifacts");

  private DataDirectory() {}

  /** Creates or tightens {@code dataDir} and the subdirectories Conveyor writes (serve, worker build). */
  public static void prepare(Path dataDir) throws IOException {
    ownerOnly(dataDir, "data directory");
    for (String sub : PRIVATE) {
      ownerOnly(dataDir.resolve(sub), "directory");
    }
  }

  private static void ownerOnly(Path dir, String what) throws IOException {
    if (!Files.isDirectory(dir)) {
      if (dir.toAbsolutePath().getParent() != null) {
        Files.createDirectories(dir.toAbsolutePath().getParent());
      }
      try {
        Files.createDirectory(dir, PosixFilePermissions.asFileAttribute(OWNER_ONLY));
      } catch (UnsupportedOperationException e) {
        Files.createDirectory(dir); // not a POSIX file system
        return;
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // made concurrently (another node on the same directory): checked below
      }
    }
    try {
      Set<PosixFilePermission> mode = Files.getPosixFilePermissions(dir);
      if (!OWNER_ONLY.containsAll(mode)) {
        Files.setPosixFilePermissions(dir, OWNER_ONLY);
        log.warn("{} {} was {}; tightened to rwx------ so that only its owner can read it", what, dir,
            PosixFilePermissions.toString(mode));
      }
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: nothing to tighten
    }
  }
}
