package dev.conveyor.reconcile.auth;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import java.util.Set;

/**
 * The credential of a server's own in-process workers: a random secret made at start, held only in
 * memory (never written to disk or logged), compared in constant time, carrying only the
 * {@code reconcile-worker} role. It lets the in-process capture worker talk to its own server over
 * gRPC in every auth mode, OIDC included, without a client secret or the admin's local token.
 */
public final class InProcessToken {
  private final byte[] secret;

  private InProcessToken(byte[] secret) {
    this.secret = secret;
  }

  public static InProcessToken generate() {
    byte[] random = new byte[32];
    new SecureRandom().nextBytes(random);
    return new InProcessToken(("in-process." + HexFormat.of().formatHex(random)).getBytes(StandardCharsets.UTF_8));
  }

  /** The bearer value the in-process worker presents. */
  public String value() {
    return new String(secret, StandardCharsets.UTF_8);
  }

  /** Roles that accept this token (as a worker only) before asking {@code others} about any other token. */
  public TokenRoles before(TokenRoles others) {
    return new TokenRoles() {
      @Override
      public Set<String> rolesOf(String presented) {
        if (MessageDigest.isEqual(secret, presented.getBytes(StandardCharsets.UTF_8))) {
          return Set.of(BearerAuthInterceptor.WORKER_ROLE);
        }
        return others.rolesOf(presented);
      }

      @Override
      public String subjectOf(String presented) {
        return MessageDigest.isEqual(secret, presented.getBytes(StandardCharsets.UTF_8)) ? "in-process-worker"
            : others.subjectOf(presented);
      }
    };
  }

  @Override
  public String toString() {
    return "InProcessToken[redacted]";
  }
}
