package dev.conveyor.ledger.jobs;

import java.time.Duration;

/**
 * Exponential backoff for retryable failures and expired leases: the n-th attempt's failure
 * waits {@code min(max, initial * multiplier^(n-1))} before the job is eligible again. A job
 * waiting on a dependency waits {@code dependencyWait} and keeps its attempt.
 */
public record RetryPolicy(Duration initial, double multiplier, Duration max, Duration dependencyWait) {

  public static final RetryPolicy DEFAULT =
      new RetryPolicy(Duration.ofSeconds(1), 2.0, Duration.ofMinutes(5), Duration.ofSeconds(5));

  public RetryPolicy {
    if (initial.isNegative() || max.isNegative() || dependencyWait.isNegative()) {
      throw new IllegalArgumentException("retry delays must not be negative");
    }
    if (multiplier < 1.0) {
      throw new IllegalArgumentException("retry multiplier must be at least 1, got " + multiplier);
    }
  }

  /** Delay after the failure of attempt {@code attempt} (1-based). */
  public Duration backoff(int attempt) {
    double millis = initial.toMillis() * Math.pow(multiplier, Math.max(0, attempt - 1));
    return millis >= max.toMillis() ? max : Duration.ofMillis((long) millis);
  }
}
