package dev.conveyor.ledger;

import dev.conveyor.ledger.jobs.RetryPolicy;
import java.time.Clock;

/** How to open a ledger; every field has a default. */
public record LedgerOptions(String url, Clock clock, int poolSize, RetryPolicy retryPolicy) {

  public static LedgerOptions defaults(String url) {
    return new LedgerOptions(url, Clock.systemUTC(), 10, RetryPolicy.DEFAULT);
  }

  public LedgerOptions withClock(Clock clock) {
    return new LedgerOptions(url, clock, poolSize, retryPolicy);
  }

  public LedgerOptions withPoolSize(int poolSize) {
    if (poolSize < 1) {
      throw new IllegalArgumentException("poolSize must be at least 1, got " + poolSize);
    }
    return new LedgerOptions(url, clock, poolSize, retryPolicy);
  }

  public LedgerOptions withRetryPolicy(RetryPolicy retryPolicy) {
    return new LedgerOptions(url, clock, poolSize, retryPolicy);
  }
}
