package dev.conveyor.ledger.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class SqliteLeasedJobsTest extends LeasedJobsContract {
  @TempDir static Path dir;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }

  @Test
  void aLeaseWalksTheReadyIndexInLeaseOrder() {
    // Without statistics SQLite chose the (kind, state) index and sorted every queued row for each lease,
    // so leasing slowed as the queue grew (774 jobs/s on 20,000 queued); the plan must walk the partial
    // ready index, already in lease order, and stop at the limit.
    String sql = JobLeasing.leaseSql(ledger.dialect(), LeaseRequest.of("w", java.util.Set.of(JobKind.BUILD), LEASE));
    java.util.List<String> plan = ledger.transact(tx -> tx.query("EXPLAIN QUERY PLAN " + sql, rs -> rs.getString(4),
        JobLeasing.leaseArgs(0L, LeaseRequest.of("w", java.util.Set.of(JobKind.BUILD), LEASE)).toArray()));
    assertThat(plan.get(0)).contains("USING INDEX jobs_ready");
    assertThat(String.join("\n", plan)).doesNotContain("TEMP B-TREE");
  }
}
