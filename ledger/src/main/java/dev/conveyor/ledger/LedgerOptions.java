package dev.conveyor.ledger;

import dev.conveyor.ledger.jobs.RetryPolicy;
import dev.conveyor.ledger.time.LedgerTime;
import java.time.Clock;

/** How to open a ledger; every field has a default (time: the database's clock). */
public record LedgerOptions(String url, LedgerTime time, int poolSize, RetryPolicy retryPolicy,
    TransientRetry transientRetry) {

  public static LedgerOptions defaults(String url) {
    return new LedgerOptions(url, new LedgerTime.DatabaseTime(Clock.systemUTC()), 10, RetryPolicy.DEFAULT,
        TransientRetry.DEFAULT);
  }

  /** Runs the ledger on exactly this clock instead of the database's (tests move it by hand). */
  public LedgerOptions withClock(Clock clock) {
    return new LedgerOptions(url, new LedgerTime.Injected(clock), poolSize, retryPolicy, transientRetry);
  }

  /**
   * Keeps the database's clock, with {@code host} as this node's wall clock: compared with the
   * database's on PostgreSQL (tests skew it to show it decides nothing), the ledger's time on SQLite.
   */
  public LedgerOptions withHostClock(Clock host) {
    return new LedgerOptions(url, new LedgerTime.DatabaseTime(host), poolSize, retryPolicy, transientRetry);
  }

  public LedgerOptions withPoolSize(int poolSize) {
    if (poolSize < 1) {
      throw new IllegalArgumentException("poolSize must be at least 1, got " + poolSize);
    }
    return new LedgerOptions(url, time, poolSize, retryPolicy, transientRetry);
  }

  public LedgerOptions withRetryPolicy(RetryPolicy retryPolicy) {
    return new LedgerOptions(url, time, poolSize, retryPolicy, transientRetry);
  }

  /** How long and how often a transaction is run again after transient failures. */
  public LedgerOptions withTransientRetry(TransientRetry transientRetry) {
    return new LedgerOptions(url, time, poolSize, retryPolicy, transientRetry);
  }
}
