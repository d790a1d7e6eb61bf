package dev.conveyor.api.bounds;

import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.Arrays;
import java.util.Base64;

/**
 * Opaque, verifiable page tokens: base64url of a version byte, the cursor and the first 8 bytes of
 * SHA-256(scope, version, cursor). A token from another list (another scope), an edited or truncated
 * token, or garbage is refused with {@link InvalidField} instead of answering an empty page. The
 * digest is a checksum, not a secret: a token only names where a listing continues.
 */
public final class PageTokens {
  private static final byte VERSION = 1;
  private static final int DIGEST_BYTES = 8;

  private PageTokens() {}

  public static String encode(String scope, String cursor) {
    byte[] c = cursor.getBytes(StandardCharsets.UTF_8);
    ByteBuffer b = ByteBuffer.allocate(1 + c.length + DIGEST_BYTES);
    b.put(VERSION).put(c).put(digest(scope, VERSION, c));
    return Base64.getUrlEncoder().withoutPadding().encodeToString(b.array());
  }

  /** The cursor of {@code token}, or null for an empty token (the first page). */
  public static String decode(String field, String scope, String token) {
    if (token.isEmpty()) {
      return null;
    }
    if (token.length() > Bounds.MAX_PAGE_TOKEN_BYTES) {
      throw invalid(field, "is longer than " + Bounds.MAX_PAGE_TOKEN_BYTES + " characters");
    }
    byte[] raw;
    try {
      raw = Base64.getUrlDecoder().decode(token);
    } catch (IllegalArgumentException e) {
      throw invalid(field, "is not a token this server issued");
    }
    if (raw.length < 1 + DIGEST_BYTES) {
      throw invalid(field, "is not a token this server issued");
    }
    if (raw[0] != VERSION) {
      throw invalid(field, "has version " + raw[0] + "; this server issues version " + VERSION);
    }
    byte[] cursor = Arrays.copyOfRange(raw, 1, raw.length - DIGEST_BYTES);
    byte[] sum = Arrays.copyOfRange(raw, raw.length - DIGEST_BYTES, raw.length);
    if (!MessageDigest.isEqual(sum, digest(scope, raw[0], cursor))) {
      throw invalid(field, "is not a token this server issued for this listing");
    }
    return new String(cursor, StandardCharsets.UTF_8);
  }

  private static InvalidField invalid(String field, String why) {
    return new InvalidField(field, "field '" + field + "' " + why + "; pass the next_page_token of the previous page,"
        + " or nothing for the first page");
  }

  private static byte[] digest(String scope, byte version, byte[] cursor) {
    try {
      MessageDigest d = MessageDigest.getInstance("SHA-256");
      d.update(scope.getBytes(StandardCharsets.UTF_8));
      d.update((byte) 0);
      d.update(version);
      d.update(cursor);
      return Arrays.copyOf(d.digest(), DIGEST_BYTES);
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }
}
