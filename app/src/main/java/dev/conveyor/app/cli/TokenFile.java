package dev.conveyor.app.cli;

import io.grpc.CallCredentials;
import io.grpc.Metadata;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.util.concurrent.Executor;

/**
 * A token file a long-running client follows: read again whenever it changes (a node that restarted wrote a new
 * local token), and while it does not exist yet (a worker started before its node) calls go without a token —
 * a server with auth answers them {@code UNAUTHENTICATED} until the file appears, one without auth serves them.
 */
public final class TokenFile extends CallCredentials {
  private final Path file;
  private FileTime seenModified;
  private long seenSize = -1;
  private String token;

  public TokenFile(Path file) {
    this.file = file;
  }

  /** The token now, or null while the file is missing or empty. */
  public synchronized String current() {
    try {
      FileTime modified = Files.getLastModifiedTime(file);
      long size = Files.size(file);
      if (!modified.equals(seenModified) || size != seenSize) {
        String read = Files.readString(file).trim();
        token = read.isEmpty() ? null : read;
        seenModified = modified;
        seenSize = size;
      }
    } catch (NoSuchFileException e) {
      token = null;
      seenModified = null;
      seenSize = -1;
    } catch (IOException e) {
      // unreadable for a moment (being replaced): keep the last token
    }
    return token;
  }

  public boolean exists() {
    return Files.exists(file);
  }

  public Path path() {
    return file;
  }

  @Override
  public void applyRequestMetadata(RequestInfo info, Executor executor, MetadataApplier applier) {
    executor.execute(() -> {
      Metadata headers = new Metadata();
      String t = current();
      if (t != null) {
        headers.put(dev.conveyor.reconcile.auth.BearerAuthInterceptor.AUTHORIZATION, "Bearer " + t);
      }
      applier.apply(headers);
    });
  }
}
