package dev.conveyor.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.ledger.testing.MutableClock;
import java.nio.file.Path;
import java.time.Instant;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** SQLite runs in this process: the database's clock is the host's, so the host clock is the ledger's time. */
class SqliteLedgerTimeTest {
  @TempDir Path dir;

  @Test
  void theHostClockIsTheLedgersTime() {
    MutableClock host = new MutableClock(Instant.parse("2026-05-01T08:00:00Z"));
    try (Ledger ledger = Ledger.open(LedgerOptions.defaults("sqlite:" + dir.resolve("l.db")).withHostClock(host))) {
      assertThat(ledger.transact(Tx::now)).isEqualTo(host.instant());
      assertThat(ledger.clock()).isSameAs(host);
      assertThat(ledger.hostClockSkew()).isZero();
    }
  }
}
