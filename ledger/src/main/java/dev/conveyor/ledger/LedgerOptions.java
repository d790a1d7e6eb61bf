package dev.conveyor.ledger;

import dev.conveyor.ledger.jobs.RetryPolicy;
import java.time.Clock;

/** How to open a ledger; every field has a default. */
public record LedgerOptions(String url, Clock clock, int poolSize, RetryPolicy retryPolicy,
    TransientRetry transientRetry) {

  public static LedgerOptions defaults(String url) {
    return new LedgerOptions(url, Clock.systemUTC(), 10, RetryPolicy.DEFAULT, TransientRetry.DEFAULT);
  }

  public LedgerOptions withClock(Clock clock) {
    return new LedgerOptions(url, clock, poolSize, retryPolicy, transientRetry);
  }

  public LedgerOptions withPoolSize(int poolSize) {
    if (poolSize < 1) {
      throw new IllegalArgumentException("poolSize must be at least 1, got " + poolSize);
    }
    return new LedgerOptions(url, clock, poolSize, retryPolicy, transientRetry);
  }

  public LedgerOptions withRetryPolicy(RetryPolicy retryPolicy) {
    return new LedgerOptions(url, clock, poolSize, retryPolicy, transientRetry);
  }

  /** How long and how often a transaction is run again after transient failures. */
  public LedgerOptions withTransientRetry(TransientRetry transientRetry) {
    return new LedgerOptions(url, clock, poolSize, retryPolicy, transientRetry);
  }
}
