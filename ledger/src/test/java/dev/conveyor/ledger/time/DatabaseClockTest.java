package dev.conveyor.ledger.time;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.awaitility.Awaitility.await;

import dev.conveyor.ledger.testing.MutableClock;
import java.sql.SQLException;
import java.sql.SQLTransientConnectionException;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.Test;

/**
 * The clock's arithmetic with a hand-moved database time, monotonic counter and host clock; reading
 * a real server's clock is {@code PostgresLedgerTimeTest}'s.
 */
class DatabaseClockTest {
  private static final Instant DB = Instant.parse("2026-03-01T12:00:00Z");

  private final AtomicReference<Instant> database = new AtomicReference<>(DB);
  private final AtomicLong ticks = new AtomicLong(987_654_321L); // any origin: only differences count
  private final AtomicInteger reads = new AtomicInteger();
  private final MutableClock host = new MutableClock(DB);

  private DatabaseClock.Source source() {
    return () -> {
      reads.incrementAndGet();
      return database.get();
    };
  }

  private void tick(Duration d) {
    ticks.addAndGet(d.toNanos());
    database.updateAndGet(t -> t.plus(d)); // the server's clock runs on meanwhile
  }

  @Test
  void carriesTheDatabaseTimeForwardOnTheMonotonicCounterWithoutReadingAgain() throws Exception {
    DatabaseClock clock = new DatabaseClock(source(), host, ticks::get);
    assertThat(clock.instant()).isEqualTo(DB);
    tick(Duration.ofSeconds(5));
    host.advance(Duration.ofHours(3)); // the host's wall clock jumps: nothing follows it
    assertThat(clock.instant()).isEqualTo(DB.plusSeconds(5));
    assertThat(clock.millis()).isEqualTo(DB.plusSeconds(5).toEpochMilli());
    assertThat(reads).hasValue(1);
  }

  @Test
  void aReadingCountsFromTheMiddleOfItsRoundTrip() throws Exception {
    DatabaseClock clock = new DatabaseClock(() -> {
      ticks.addAndGet(Duration.ofMillis(40).toNanos()); // 40 ms on the wire; the server read its clock at DB
      return DB;
    }, host, ticks::get);
    assertThat(clock.instant()).isEqualTo(DB.plusMillis(20));
  }

  @Test
  void aResyncAheadMovesTheTimeOn() throws Exception {
    DatabaseClock clock = new DatabaseClock(source(), host, ticks::get);
    tick(Duration.ofSeconds(10));
    database.updateAndGet(t -> t.plusSeconds(2)); // the counter ran slow, or the server's clock was corrected
    clock.sync();
    assertThat(clock.instant()).isEqualTo(DB.plusSeconds(12));
  }

  @Test
  void aResyncBehindNeverMovesTheTimeBackButHoldsUntilTheDatabaseCatchesUp() throws Exception {
    DatabaseClock clock = new DatabaseClock(source(), host, ticks::get);
    tick(Duration.ofSeconds(10));
    assertThat(clock.instant()).isEqualTo(DB.plusSeconds(10)); // handed out
    database.set(DB.plusSeconds(7)); // the server says it is 3 s earlier than that
    clock.sync();
    assertThat(clock.instant()).isEqualTo(DB.plusSeconds(10));
    tick(Duration.ofSeconds(2));
    assertThat(clock.instant()).as("held while the database is behind").isEqualTo(DB.plusSeconds(10));
    tick(Duration.ofSeconds(2));
    assertThat(clock.instant()).as("then on from the database's time").isEqualTo(DB.plusSeconds(11));
    Instant before = clock.instant();
    for (int i = 0; i < 1_000; i++) {
      ticks.incrementAndGet();
      Instant now = clock.instant();
      assertThat(now).isAfterOrEqualTo(before);
      before = now;
    }
  }

  @Test
  void reportsHowFarTheHostClockIsFromTheDatabases() throws Exception {
    host.set(DB.plus(Duration.ofMinutes(10)));
    DatabaseClock clock = new DatabaseClock(source(), host, ticks::get);
    assertThat(clock.skew()).isEqualTo(Duration.ofMinutes(10));
    assertThat(clock.instant()).as("the host's clock decides nothing").isEqualTo(DB);

    tick(Duration.ofSeconds(30));
    host.set(DB.plusSeconds(30).minusMillis(1_500)); // corrected, then overshot: 1.5 s behind
    clock.sync();
    assertThat(clock.skew()).isEqualTo(Duration.ofMillis(-1_500));
  }

  @Test
  void aFailedResyncLeavesTheTimeRunningOnTheCounter() throws Exception {
    AtomicReference<SQLException> failure = new AtomicReference<>();
    DatabaseClock clock = new DatabaseClock(() -> {
      if (failure.get() != null) {
        throw failure.get();
      }
      return database.get();
    }, host, ticks::get);
    failure.set(new SQLTransientConnectionException("connection refused"));
    tick(Duration.ofSeconds(45));
    assertThatThrownBy(clock::sync).isSameAs(failure.get());
    assertThat(clock.instant()).isEqualTo(DB.plusSeconds(45));
  }

  @Test
  void keepsResyncingOnItsThreadAfterAFailure() throws Exception {
    AtomicInteger attempts = new AtomicInteger();
    try (DatabaseClock clock = new DatabaseClock(() -> {
      if (attempts.incrementAndGet() > 1) {
        throw new SQLTransientConnectionException("the database is down");
      }
      return DB;
    }, host, ticks::get)) {
      clock.resyncEvery(Duration.ofMillis(10));
      await().atMost(Duration.ofSeconds(10)).until(() -> attempts.get() >= 4);
      assertThat(clock.instant()).isEqualTo(DB);
    }
  }

  @Test
  void aLedgerCannotOpenOnADatabaseClockItCannotRead() {
    SQLException refused = new SQLException("permission denied");
    assertThatThrownBy(() -> new DatabaseClock(() -> {
      throw refused;
    }, host, ticks::get)).isSameAs(refused);
  }
}
