package dev.conveyor.ledger.jobs;

/** Progress counters of a running job. Counters only grow: a lower report keeps the higher value. */
public record JobProgress(long done, long total, long failed, long bytes, String message) {
  public static final JobProgress NONE = new JobProgress(0, 0, 0, 0, null);

  public JobProgress {
    requireNonNegative("done", done);
    requireNonNegative("total", total);
    requireNonNegative("failed", failed);
    requireNonNegative("bytes", bytes);
    if (message != null && message.length() > 2048) {
      message = message.substring(0, 2048);
    }
  }

  private static void requireNonNegative(String field, long value) {
    if (value < 0) {
      throw new IllegalArgumentException("progress." + field + " must not be negative, got " + value);
    }
  }

  JobProgress mergedWith(JobProgress newer) {
    return new JobProgress(
        Math.max(done, newer.done),
        Math.max(total, newer.total),
        Math.max(failed, newer.failed),
        Math.max(bytes, newer.bytes),
        newer.message != null ? newer.message : message);
  }
}
