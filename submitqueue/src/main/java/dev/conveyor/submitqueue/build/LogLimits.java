package dev.conveyor.submitqueue.build;

/**
 * How much of a build's output the ledger keeps: its first {@code head} and its last {@code tail}
 * characters (Unicode code points); what lies between is dropped and counted, and a reader is told
 * how much. Bounds memory on the build worker too: at most head + tail characters are pending.
 */
public record LogLimits(int head, int tail) {
  public static final int MAX = 16 << 20;
  public static final LogLimits DEFAULT = new LogLimits(256 << 10, 256 << 10);

  public LogLimits {
    if (head < 0 || head > MAX) {
      throw new IllegalArgumentException("build-log-head must be 0 to " + MAX + " characters, got " + head);
    }
    if (tail < 0 || tail > MAX) {
      throw new IllegalArgumentException("build-log-tail must be 0 to " + MAX + " characters, got " + tail);
    }
    if (head + tail == 0) {
      throw new IllegalArgumentException("build-log-head and build-log-tail are both 0: nothing of a build's output"
          + " would be kept");
    }
  }
}
