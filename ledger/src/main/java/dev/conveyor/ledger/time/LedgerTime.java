package dev.conveyor.ledger.time;

import java.time.Clock;

/** Where a ledger's time comes from: every lease expiry, backoff and visibility delay is decided on it. */
public sealed interface LedgerTime {

  /**
   * The database's clock, carried forward by a {@link DatabaseClock} (the default). {@code host} is
   * this node's wall clock: on PostgreSQL it is only compared with the database's (the skew is logged
   * and reported), never used; on SQLite, which runs in this process, the database's clock is the
   * host's, so {@code host} is the ledger's time as is.
   */
  record DatabaseTime(Clock host) implements LedgerTime {}

  /** Exactly this clock, on every backend: tests move time by hand. */
  record Injected(Clock clock) implements LedgerTime {}
}
