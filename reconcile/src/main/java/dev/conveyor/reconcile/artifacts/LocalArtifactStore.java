package dev.conveyor.reconcile.artifacts;

import java.io.IOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.Optional;
import java.util.regex.Pattern;

/** Artifacts as files {@code <root>/<first two hex digits>/<sha-256>}, written once, atomically. */
public final class LocalArtifactStore implements ArtifactStore {
  private static final Pattern SHA256 = Pattern.compile("[0-9a-f]{64}");

  private final Path root;

  public LocalArtifactStore(Path root) {
    this.root = root;
  }

  @Override
  public String put(String artifactId, byte[] content) throws IOException {
    Path target = pathOf(artifactId);
    if (!Files.exists(target)) {
      Files.createDirectories(target.getParent());
      Path tmp = Files.createTempFile(target.getParent(), artifactId.substring(0, 8), ".tmp");
      Files.write(tmp, content);
      try {
        Files.move(tmp, target, StandardCopyOption.ATOMIC_MOVE);
      } catch (FileAlreadyExistsException | AtomicMoveNotSupportedException e) {
        Files.deleteIfExists(tmp); // another writer stored the same content first
      }
    }
    return target.toUri().toString();
  }

  @Override
  public Optional<byte[]> get(String artifactId) throws IOException {
    Path p = pathOf(artifactId);
    return Files.exists(p) ? Optional.of(Files.readAllBytes(p)) : Optional.empty();
  }

  private Path pathOf(String artifactId) {
    if (artifactId == null || !SHA256.matcher(artifactId).matches()) {
      throw new IllegalArgumentException("artifact id '" + artifactId + "' is not a lower-case SHA-256 hex digest");
    }
    return root.resolve(artifactId.substring(0, 2)).resolve(artifactId);
  }
}
