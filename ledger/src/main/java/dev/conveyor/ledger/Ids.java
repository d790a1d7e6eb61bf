package dev.conveyor.ledger;

import java.time.Instant;
import java.util.UUID;
import java.util.concurrent.ThreadLocalRandom;

/** Identifier generation. */
public final class Ids {
  private static long lastMillis = -1;
  private static long sequence;

  private Ids() {}

  /**
   * A time-ordered id: 12 hex digits of milliseconds then an 8-digit sequence that starts at a
   * random point each millisecond and counts up, so ids made by one process sort in creation
   * order (first in, first leased) even within a millisecond or under a frozen test clock.
   */
  public static String timeOrdered(Instant now) {
    long millis = now.toEpochMilli();
    long seq;
    synchronized (Ids.class) {
      if (millis > lastMillis) {
        lastMillis = millis;
        sequence = ThreadLocalRandom.current().nextLong(0, 1L << 30);
      } else {
        millis = lastMillis;
        sequence++;
      }
      seq = sequence;
    }
    return String.format("%012x%08x", millis, seq & 0xffffffffL);
  }

  /** An opaque, unguessable token such as a lease epoch. */
  public static String opaque() {
    return UUID.randomUUID().toString().replace("-", "");
  }
}
