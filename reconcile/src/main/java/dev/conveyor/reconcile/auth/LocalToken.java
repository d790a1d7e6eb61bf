package dev.conveyor.reconcile.auth;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * The embedded default's auth: one random token generated into the data directory (readable only
 * by its owner) and used by local workers and the CLI. It carries every role.
 */
public final class LocalToken implements TokenRoles {
  public static final String FILE_NAME = "local-token";

  private final byte[] token;

  private LocalToken(String token) {
    this.token = token.getBytes(StandardCharsets.UTF_8);
  }

  /** Reads the data directory's token, creating it on first use. */
  public static LocalToken inDataDirectory(Path dataDir) throws IOException {
    return inFile(dataDir.resolve(FILE_NAME));
  }

  /** Shortest token accepted from a file someone else made: a guessable token is no credential. */
  static final int MIN_LENGTH = 32;

  /**
   * Reads {@code file}'s token, creating it (32 random bytes, hex, owner-only) when it is missing; nodes
   * of a fleet given the same file accept the same token. Refuses a token shorter than 32 characters.
   */
  public static LocalToken inFile(Path file) throws IOException {
    file = file.toAbsolutePath();
    Path dataDir = file.getParent();
    if (!Files.exists(file)) {
      Files.createDirectories(dataDir);
      byte[] random = new byte[32];
      new SecureRandom().nextBytes(random);
      Path tmp = Files.createTempFile(dataDir, file.getFileName().toString(), ".tmp");
      try {
        Files.setPosixFilePermissions(tmp, PosixFilePermissions.fromString("rw-------"));
      } catch (UnsupportedOperationException e) {
        // not a POSIX file system; the directory's own permissions protect it
      }
      Files.writeString(tmp, HexFormat.of().formatHex(random));
      try {
        // a hard link is made only where no file is: nodes of a fleet starting together agree on one token
        // (a rename would let the last one replace a token the others already hold)
        Files.createLink(file, tmp);
      } catch (java.nio.file.FileAlreadyExistsException e) {
        // another process made it first; use theirs
      } catch (UnsupportedOperationException e) {
        Files.move(tmp, file, java.nio.file.StandardCopyOption.ATOMIC_MOVE);
      } finally {
        Files.deleteIfExists(tmp);
      }
    }
    String token = read(file);
    if (token.length() < MIN_LENGTH || !token.chars().allMatch(c -> c > 32 && c < 127)) {
      throw new IOException("the token in " + file + " must be at least " + MIN_LENGTH
          + " printable characters without spaces (delete it to have one made)");
    }
    return new LocalToken(token);
  }

  public static String read(Path file) throws IOException {
    return Files.readString(file).trim();
  }

  public String value() {
    return new String(token, StandardCharsets.UTF_8);
  }

  @Override
  public Set<String> rolesOf(String presented) {
    if (!MessageDigest.isEqual(token, presented.getBytes(StandardCharsets.UTF_8))) {
      throw new TokenValidator.InvalidTokenException("not this server's local token");
    }
    return Set.of(BearerAuthInterceptor.WORKER_ROLE, BearerAuthInterceptor.ADMIN_ROLE,
        BearerAuthInterceptor.SUBMITQUEUE_ROLE, BearerAuthInterceptor.VIEWER_ROLE,
        BearerAuthInterceptor.CI_REPORTER_ROLE, BearerAuthInterceptor.DURABILITY_CLIENT_ROLE);
  }

  @Override
  public String subjectOf(String presented) {
    rolesOf(presented);
    return "local-token";
  }
}
