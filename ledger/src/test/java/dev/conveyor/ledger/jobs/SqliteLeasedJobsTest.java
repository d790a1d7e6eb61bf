package dev.conveyor.ledger.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteLeasedJobsTest extends LeasedJobsContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }

  @Test
  void retentionWalksTheFinishedRootsIndexNotEveryFinishedRoot() {
    // Without statistics SQLite took (parent_id, state) and sorted every finished root for each batch,
    // holding the write lock; the scan must walk the partial index of finished roots by age.
    JobRetention retention = new JobRetention(Duration.ofDays(7), List.of("SELECT 'none'"));
    List<String> plan = ledger.transact(tx -> tx.query("EXPLAIN QUERY PLAN " + retention.batchSql(tx.dialect()),
        rs -> rs.getString(4), 0L, 0L, 100));
    assertThat(plan.get(0)).contains("USING INDEX jobs_finished_roots");
    assertThat(String.join("\n", plan)).doesNotContain("USE TEMP B-TREE FOR ORDER BY");
  }
}
