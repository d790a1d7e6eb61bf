package dev.conveyor.reconcile.artifacts;

import java.io.IOException;
import java.util.Optional;

/**
 * Where capture artifacts (page-index sidecars) live, content-addressed by the SHA-256 of their bytes.
 * Local directories today; an object store fits the same three calls.
 */
public interface ArtifactStore {
  /** Stores {@code content} under {@code artifactId} (its SHA-256, hex) unless present; answers its URI. */
  String put(String artifactId, byte[] content) throws IOException;

  Optional<byte[]> get(String artifactId) throws IOException;

  /** A control plane without a store refuses results that carry artifacts. */
  ArtifactStore NONE = new ArtifactStore() {
    @Override
    public String put(String artifactId, byte[] content) {
      throw new IllegalStateException("this control plane has no artifact store; it cannot keep page indexes");
    }

    @Override
    public Optional<byte[]> get(String artifactId) {
      return Optional.empty();
    }
  };
}
