package dev.conveyor.ledger.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assumptions.assumeThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.testing.PostgresDatabase;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

class PostgresMaintenanceTest extends MaintenanceContract {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  @Override
  protected String ledgerUrl() {
    return pg.url();
  }

  /** With autovacuum off (as on the CI server), nothing but the leader makes dead rows reusable. */
  @Test
  void theLeaderVacuumsAfterRetentionWhenTheServerDoesNot() {
    try (Ledger probe = Ledger.open(pg.url())) {
      String autovacuum = probe.read(tx -> tx.queryOne("SELECT current_setting('autovacuum')", rs -> rs.getString(1)))
          .orElse("on");
      assumeThat(autovacuum).as("this server runs autovacuum itself").isEqualTo("off");
      // a thousand and more dead rows in jobs, their statistics flushed where other sessions see them
      probe.jobs().enqueueAll(java.util.stream.IntStream.range(0, 1_200).mapToObj(i ->
          dev.conveyor.ledger.jobs.JobSpec.builder(dev.conveyor.ledger.jobs.JobKind.BUILD).build()).toList());
      probe.transact(tx -> {
        tx.update("DELETE FROM jobs");
        return tx.query("SELECT pg_stat_force_next_flush()", rs -> 1);
      });
      await().atMost(Duration.ofSeconds(20)).until(() -> probe.read(tx -> tx.queryLong(
          "SELECT n_dead_tup FROM pg_stat_user_tables WHERE relname = 'jobs'")) >= 1_000);
      long before = vacuums(probe);
      Maintenance m = new Maintenance(probe, "vacuumer", List.of(), Maintenance.Options.defaults(),
          Maintenance.Observer.NONE);
      m.lead();
      m.runRetention();
      // VACUUM's own statistics reach pg_stat_user_tables asynchronously
      await().atMost(Duration.ofSeconds(20)).untilAsserted(() -> assertThat(vacuums(probe)).isGreaterThan(before));
      m.close();
    }
  }

  private static long vacuums(Ledger ledger) {
    return ledger.read(tx -> tx.queryLong("SELECT vacuum_count FROM pg_stat_user_tables WHERE relname = 'jobs'"));
  }
}
