package dev.conveyor.ledger;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;

/** SHA-256 helpers for idempotency fingerprints and content addresses. */
public final class Hashing {
  private Hashing() {}

  public static MessageDigest sha256() {
    try {
      return MessageDigest.getInstance("SHA-256");
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("every JVM ships SHA-256", e);
    }
  }

  public static String sha256Hex(byte[] bytes) {
    return HexFormat.of().formatHex(sha256().digest(bytes));
  }

  public static String sha256Hex(String text) {
    return sha256Hex(text.getBytes(StandardCharsets.UTF_8));
  }

  /** Feeds a length-prefixed field, so ("ab","c") and ("a","bc") hash differently. */
  public static void update(MessageDigest digest, String field) {
    if (field == null) {
      digest.update((byte) 0);
      return;
    }
    byte[] b = field.getBytes(StandardCharsets.UTF_8);
    digest.update((byte) 1);
    digest.update(intBytes(b.length));
    digest.update(b);
  }

  public static void update(MessageDigest digest, byte[] field) {
    digest.update(intBytes(field.length));
    digest.update(field);
  }

  private static byte[] intBytes(int v) {
    return new byte[] {(byte) (v >>> 24), (byte) (v >>> 16), (byte) (v >>> 8), (byte) v};
  }
}
