package dev.conveyor.app.web;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.HexFormat;
import javax.crypto.Mac;
import javax.crypto.spec.SecretKeySpec;

/**
 * Page tokens against cross-site requests: an HMAC of the caller's session (a digest of their bearer token)
 * under a key that lives only in this process. The page reads its token from {@code /api/session} and sends it
 * as a header; another site can do neither. A restarted server has a new key, so a page from before the restart
 * is asked to reload.
 */
final class Csrf {
  private final byte[] key;

  private Csrf(byte[] key) {
    this.key = key;
  }

  static Csrf random() {
    byte[] key = new byte[32];
    new SecureRandom().nextBytes(key);
    return new Csrf(key);
  }

  String tokenFor(String session) {
    try {
      Mac mac = Mac.getInstance("HmacSHA256");
      mac.init(new SecretKeySpec(key, "HmacSHA256"));
      return HexFormat.of().formatHex(mac.doFinal(("csrf|" + session).getBytes(StandardCharsets.UTF_8)));
    } catch (java.security.GeneralSecurityException e) {
      throw new IllegalStateException(e);
    }
  }

  boolean matches(String session, String presented) {
    return presented != null && MessageDigest.isEqual(tokenFor(session).getBytes(StandardCharsets.UTF_8),
        presented.getBytes(StandardCharsets.UTF_8));
  }
}
