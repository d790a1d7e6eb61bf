package dev.conveyor.ledger;

import java.time.Duration;
import java.util.concurrent.ThreadLocalRandom;

/**
 * How long {@link Ledger#transact} keeps running a transaction again after transient failures
 * ({@link FailureKind}): for as long as {@code budget} (measured on the monotonic clock, not the
 * ledger's business clock) for an unavailable database, long enough to ride out a PostgreSQL restart;
 * at most {@code maxContentionAttempts} times for contention, which a fresh attempt almost always
 * resolves. Waits grow exponentially from {@code initialBackoff} to {@code maxBackoff}, with full jitter
 * so that many waiting callers do not return in lockstep.
 */
public record TransientRetry(Duration budget, int maxContentionAttempts, Duration initialBackoff,
    Duration maxBackoff) {

  public static final TransientRetry DEFAULT =
      new TransientRetry(Duration.ofSeconds(30), 12, Duration.ofMillis(2), Duration.ofSeconds(1));

  public TransientRetry {
    if (budget.isNegative() || initialBackoff.isNegative() || maxBackoff.isNegative()) {
      throw new IllegalArgumentException("transient retry durations must not be negative");
    }
    if (maxContentionAttempts < 1) {
      throw new IllegalArgumentException("maxContentionAttempts must be at least 1, got " + maxContentionAttempts);
    }
  }

  /** A random wait before attempt {@code attempt + 1}: uniform in (0, min(max, initial * 2^(attempt-1))]. */
  public Duration backoff(int attempt) {
    long cap = Math.min(maxBackoff.toNanos(), initialBackoff.toNanos() << Math.min(30, Math.max(0, attempt - 1)));
    if (cap <= 0) {
      return Duration.ZERO;
    }
    return Duration.ofNanos(ThreadLocalRandom.current().nextLong(1, cap + 1));
  }
}
