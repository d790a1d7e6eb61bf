package dev.conveyor.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.testing.FlakyProxy;
import dev.conveyor.ledger.testing.PostgresDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.PreparedStatement;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/** The contract, plus what only a server can do: terminate a connection, lose a COMMIT's answer, go away. */
class PostgresTransientFailuresTest extends TransientFailuresContract {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  private static final TransientRetry SHORT =
      new TransientRetry(Duration.ofSeconds(2), 12, Duration.ofMillis(2), Duration.ofMillis(200));

  @Override
  protected String ledgerUrl() {
    return pg.url();
  }

  @Test
  void aTransactionWhoseConnectionIsTerminatedMidFlightRunsAgainAndCommitsOnce() {
    AtomicInteger runs = new AtomicInteger();
    String done = ledger.transact(tx -> {
      int run = runs.incrementAndGet();
      tx.update("INSERT INTO blip_probe (id, note) VALUES ('a', ?)", "run " + run);
      if (run == 1) {
        terminate(tx.queryLong("SELECT pg_backend_pid()")); // SQLState 57P01 on our next statement
      }
      tx.update("INSERT INTO blip_probe (id, note) VALUES ('b', ?)", "run " + run);
      return "run " + run;
    });
    assertThat(done).isEqualTo("run 2");
    assertThat(runs).hasValue(2);
    assertThat(probeRows()).containsExactly("a=run 2", "b=run 2");
  }

  @Test
  void aCommitWhoseAnswerIsLostIsFoundCommittedAndNotRunAgain() throws Exception {
    try (FlakyProxy proxy = new FlakyProxy(PostgresDatabase.HOST, PostgresDatabase.PORT);
        Ledger flaky = Ledger.open(LedgerOptions.defaults(proxy.ledgerUrl(pg.name())).withTransientRetry(SHORT))) {
      AtomicInteger runs = new AtomicInteger();
      AtomicInteger afterCommit = new AtomicInteger();
      proxy.cutNextCommitAfterItIsProcessed();
      String done = flaky.transact(tx -> {
        int run = runs.incrementAndGet();
        tx.update("INSERT INTO blip_probe (id, note) VALUES ('once', ?)", "run " + run);
        tx.afterCommit(afterCommit::incrementAndGet);
        return "run " + run;
      });
      assertThat(proxy.commitsCut()).as("the COMMIT's answer was dropped").isEqualTo(1);
      assertThat(done).isEqualTo("run 1");
      assertThat(runs).as("a committed unit is not run again").hasValue(1);
      assertThat(afterCommit).hasValue(1);
      assertThat(probeRows()).containsExactly("once=run 1");
    }
  }

  @Test
  void aDatabaseThatStaysAwayEndsAsLedgerUnavailableAfterTheBudgetAndTheLedgerRecovers() throws Exception {
    try (FlakyProxy proxy = new FlakyProxy(PostgresDatabase.HOST, PostgresDatabase.PORT);
        Ledger flaky = Ledger.open(LedgerOptions.defaults(proxy.ledgerUrl(pg.name())).withTransientRetry(SHORT))) {
      proxy.down();
      long started = System.nanoTime();
      assertThatThrownBy(() -> flaky.transact(tx -> tx.update("INSERT INTO blip_probe (id, note) VALUES ('x', 'y')")))
          .isInstanceOf(LedgerUnavailableException.class)
          .hasMessageContaining("unavailable")
          .satisfies(e -> assertThat(FailureKind.of(e)).isEqualTo(FailureKind.UNAVAILABLE));
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isBetween(Duration.ofSeconds(1), Duration.ofSeconds(10));
      proxy.up();
      flaky.transact(tx -> tx.update("INSERT INTO blip_probe (id, note) VALUES ('x', 'after')"));
      assertThat(probeRows()).containsExactly("x=after");
    }
  }

  private static void terminate(long pid) throws SQLException {
    try (Connection admin = DriverManager.getConnection(
            "jdbc:postgresql://" + PostgresDatabase.HOST + ":" + PostgresDatabase.PORT + "/postgres", "postgres", "");
        PreparedStatement ps = admin.prepareStatement("SELECT pg_terminate_backend(?::int, 5000)")) {
      ps.setLong(1, pid);
      ps.execute();
    }
  }
}
