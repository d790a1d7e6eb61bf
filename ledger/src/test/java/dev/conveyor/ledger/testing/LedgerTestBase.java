package dev.conveyor.ledger.testing;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.LedgerOptions;
import dev.conveyor.ledger.TransientRetry;
import dev.conveyor.ledger.jobs.RetryPolicy;
import java.time.Duration;
import java.time.Instant;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/**
 * Opens a ledger on the concrete class's backend before each test, with a hand-moved clock and
 * empty tables. Contract suites extend this and stay backend-agnostic.
 */
public abstract class LedgerTestBase {
  protected static final Instant T0 = Instant.parse("2026-01-01T00:00:00Z");
  protected static final RetryPolicy TEST_RETRY =
      new RetryPolicy(Duration.ofSeconds(1), 2.0, Duration.ofSeconds(60), Duration.ofSeconds(5));
  /** A short budget, so a test of what happens past it does not wait the production 30 s. */
  protected static final TransientRetry TEST_TRANSIENT =
      new TransientRetry(Duration.ofSeconds(3), 12, Duration.ofMillis(2), Duration.ofMillis(200));

  protected MutableClock clock;
  protected Ledger ledger;

  /** The ledger URL of this class's backend (a temp SQLite file, or a per-class PostgreSQL database). */
  protected abstract String ledgerUrl();

  @BeforeEach
  void openLedger() {
    clock = new MutableClock(T0);
    ledger = Ledger.open(LedgerOptions.defaults(ledgerUrl()).withClock(clock).withRetryPolicy(TEST_RETRY)
        .withTransientRetry(TEST_TRANSIENT));
    LedgerReset.truncateAll(ledger);
  }

  @AfterEach
  void closeLedger() {
    if (ledger != null) {
      ledger.close();
    }
  }
}
