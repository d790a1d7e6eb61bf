package dev.conveyor.app.cli;

import java.time.Duration;
import java.util.Locale;

/** Durations as people write them in options and configuration. */
public final class Durations {
  private Durations() {}

  /** {@code 500ms}, {@code 90s}, {@code 30m}, {@code 12h}, {@code 7d}: positive. */
  public static Duration parse(String text) {
    String v = text.trim().toLowerCase(Locale.ROOT);
    try {
      Duration d;
      if (v.endsWith("ms")) {
        d = Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      } else {
        long n = Long.parseLong(v.substring(0, v.length() - 1));
        d = switch (v.charAt(v.length() - 1)) {
          case 's' -> Duration.ofSeconds(n);
          case 'm' -> Duration.ofMinutes(n);
          case 'h' -> Duration.ofHours(n);
          case 'd' -> Duration.ofDays(n);
          default -> throw new IllegalArgumentException(text);
        };
      }
      if (d.isNegative() || d.isZero()) {
        throw new IllegalArgumentException(text);
      }
      return d;
    } catch (NumberFormatException | StringIndexOutOfBoundsException | ArithmeticException e) {
      throw new IllegalArgumentException(text, e);
    }
  }
}
