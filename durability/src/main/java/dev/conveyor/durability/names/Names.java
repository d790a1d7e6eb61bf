package dev.conveyor.durability.names;

import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.regex.Pattern;

/**
 * The bounds of everything a client names or sends. Each refusal is an {@link IllegalArgumentException}
 * whose message starts with the field's name, so the service can answer INVALID_ARGUMENT naming it.
 */
public final class Names {
  /** Streams, partitions, subjects and consumers: safe in a URL, a log line and a LISTEN payload. */
  private static final Pattern NAME = Pattern.compile("[A-Za-z0-9._:@/=+-]{1,128}");
  private static final Pattern KEY = Pattern.compile("[A-Za-z0-9._:@/=+-]{1,512}");
  public static final String DEFAULT_PARTITION = "default";
  public static final int MAX_INTENT_BYTES = 256;
  public static final int MAX_HOLDER_BYTES = 256;
  public static final int MAX_PAYLOAD_BYTES = 64 * 1024;
  public static final Duration MIN_TTL = Duration.ofMillis(100);
  public static final Duration MAX_TTL = Duration.ofHours(1);

  private Names() {}

  public static String name(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(field + " is required");
    }
    if (!NAME.matcher(value).matches()) {
      throw new IllegalArgumentException(field + " must be 1..128 characters of A-Z a-z 0-9 . _ : @ / = + -, got "
          + shown(value));
    }
    return value;
  }

  /** A partition; empty means {@link #DEFAULT_PARTITION}. */
  public static String partition(String field, String value) {
    return value == null || value.isEmpty() ? DEFAULT_PARTITION : name(field, value);
  }

  public static String key(String field, String value) {
    if (value == null || value.isEmpty()) {
      throw new IllegalArgumentException(field + " is required");
    }
    if (!KEY.matcher(value).matches()) {
      throw new IllegalArgumentException(field + " must be 1..512 characters of A-Z a-z 0-9 . _ : @ / = + -, got "
          + shown(value));
    }
    return value;
  }

  /** Free text of at most {@code maxBytes} UTF-8 bytes without control characters. */
  public static String text(String field, String value, int maxBytes) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(field + " is required");
    }
    if (value.getBytes(StandardCharsets.UTF_8).length > maxBytes) {
      throw new IllegalArgumentException(field + " must be at most " + maxBytes + " bytes");
    }
    if (value.chars().anyMatch(Character::isISOControl)) {
      throw new IllegalArgumentException(field + " must not contain control characters");
    }
    return value;
  }

  public static byte[] payload(String field, byte[] value) {
    if (value.length > MAX_PAYLOAD_BYTES) {
      throw new IllegalArgumentException(field + " is " + value.length + " bytes; at most " + MAX_PAYLOAD_BYTES);
    }
    return value;
  }

  public static Duration ttl(String field, long millis) {
    Duration ttl = Duration.ofMillis(millis);
    if (ttl.compareTo(MIN_TTL) < 0 || ttl.compareTo(MAX_TTL) > 0) {
      throw new IllegalArgumentException(field + " must be between " + MIN_TTL.toMillis() + " and "
          + MAX_TTL.toMillis() + " ms, got " + millis);
    }
    return ttl;
  }

  public static long sequence(String field, long value) {
    if (value < 0) {
      throw new IllegalArgumentException(field + " must not be negative, got " + value);
    }
    return value;
  }

  /** A page size: {@code fallback} for 0, refused above {@code max}. */
  public static int limit(String field, int value, int fallback, int max) {
    if (value < 0 || value > max) {
      throw new IllegalArgumentException(field + " must be between 0 and " + max + ", got " + value);
    }
    return value == 0 ? fallback : value;
  }

  private static String shown(String value) {
    String cut = value.length() > 40 ? value.substring(0, 40) + "…" : value;
    StringBuilder s = new StringBuilder("\"");
    cut.codePoints().forEach(c -> {
      if (Character.isISOControl(c)) {
        s.append(String.format("\\u%04x", c));
      } else {
        s.appendCodePoint(c);
      }
    });
    return s.append('"').toString();
  }
}
