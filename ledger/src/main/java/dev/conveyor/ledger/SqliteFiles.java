package dev.conveyor.ledger;

import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.Set;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a SQLite ledger readable by its owner only: the database file is created 0600 before SQLite
 * opens it (SQLite gives its {@code -wal} and {@code -shm} files the database file's mode), and an
 * existing file, WAL or shared-memory file with a looser mode is tightened, saying so in the log.
 */
final class SqliteFiles {
  private static final Logger log = LoggerFactory.getLogger(SqliteFiles.class);
  private static final Set<PosixFilePermission> OWNER_RW = PosixFilePermissions.fromString("rw-------");

  private SqliteFiles() {}

  static void keepPrivate(Path db) {
    try {
      try {
        Files.createFile(db, PosixFilePermissions.asFileAttribute(OWNER_RW)); // an empty file is an empty database
      } catch (FileAlreadyExistsException e) {
        // opened before: tightened below
      }
      for (Path p : new Path[] {db, Path.of(db + "-wal"), Path.of(db + "-shm")}) {
        tighten(p);
      }
    } catch (UnsupportedOperationException e) {
      // not a POSIX file system: the data directory's own protection is all there is
    } catch (IOException e) {
      throw new LedgerException("cannot restrict the ledger file " + db + " to its owner: " + e.getMessage(), e);
    }
  }

  private static void tighten(Path p) throws IOException {
    if (!Files.exists(p)) {
      return;
    }
    Set<PosixFilePermission> mode = Files.getPosixFilePermissions(p);
    if (!OWNER_RW.containsAll(mode)) {
      Files.setPosixFilePermissions(p, OWNER_RW);
      log.warn("ledger file {} was {}; tightened to rw------- (only its owner may read the ledger)", p,
          PosixFilePermissions.toString(mode));
    }
  }
}
