package dev.conveyor.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.within;

import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.testing.MutableClock;
import dev.conveyor.ledger.testing.PostgresDatabase;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.temporal.ChronoUnit;
import java.util.Set;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** On PostgreSQL a ledger tells time by the server's clock; the host's is compared, never used. */
class PostgresLedgerTimeTest {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();
  private static final Duration TEN_MINUTES = Duration.ofMinutes(10);

  @Test
  void aHostClockTenMinutesAheadDecidesNothingAndIsReported() {
    Clock skewed = Clock.offset(Clock.systemUTC(), TEN_MINUTES);
    try (Ledger ledger = Ledger.open(LedgerOptions.defaults(pg.url()).withHostClock(skewed))) {
      Instant server = ledger.transact(tx -> tx.queryOne("SELECT clock_timestamp()",
          rs -> rs.getObject(1, OffsetDateTime.class).toInstant()).orElseThrow());
      Instant txNow = ledger.transact(Tx::now);
      assertThat(txNow).isCloseTo(server, within(2, ChronoUnit.SECONDS));
      assertThat(ledger.hostClockSkew().toMillis()).isCloseTo(TEN_MINUTES.toMillis(), within(2_000L));

      ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).build());
      LeaseGrant grant = ledger.jobs().leaseOne(LeaseRequest.of("node", Set.of(JobKind.BUILD),
          Duration.ofMinutes(1))).orElseThrow();
      assertThat(grant.expiresAt()).isCloseTo(server.plus(Duration.ofMinutes(1)), within(3, ChronoUnit.SECONDS));
    }
  }

  @Test
  void aByDefaultOpenedLedgerRunsOnTheServersClock() {
    try (Ledger ledger = Ledger.open(pg.url())) {
      Instant server = ledger.transact(tx -> tx.queryOne("SELECT clock_timestamp()",
          rs -> rs.getObject(1, OffsetDateTime.class).toInstant()).orElseThrow());
      assertThat(ledger.clock().instant()).isCloseTo(server, within(2, ChronoUnit.SECONDS));
      Instant txNow = ledger.transact(Tx::now);
      assertThat(ledger.clock().instant()).as("never behind what a transaction saw").isAfterOrEqualTo(txNow);
    }
  }

  @Test
  void anInjectedClockIsUsedExactly() {
    Instant t0 = Instant.parse("2026-01-01T00:00:00Z");
    try (Ledger ledger = Ledger.open(pg.url(), new MutableClock(t0))) {
      assertThat(ledger.transact(Tx::now)).isEqualTo(t0);
      assertThat(ledger.hostClockSkew()).isZero();
    }
  }
}
