package dev.conveyor.app.maintenance;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.submitqueue.BatchInfo;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.app.serve.MaintenanceSettings;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.maintenance.Maintenance;
import dev.conveyor.ledger.maintenance.RetentionReport;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.messagequeue.effects.EffectClaims;
import dev.conveyor.messagequeue.stream.Publisher;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import dev.conveyor.messagequeue.wakeup.Wakeups;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import dev.conveyor.submitqueue.speculate.PathRecord;
import dev.conveyor.submitqueue.speculate.Paths;
import java.sql.SQLException;
import java.time.Duration;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * Retention of every table, as {@code serve} wires it (the default ages), on both backends with the
 * hand-moved ledger clock: each table grows, the clock passes its age, the leader's run shrinks it
 * back — and what is still referenced stays: a live request with its history, batch, path, build and
 * output; a running job tree's finished children; messages a group has not committed; held claims;
 * and the statistics of a finalized snapshot, which are never retention.
 */
public abstract class RetentionContract extends LedgerTestBase {
  private static final Duration LEASE = Duration.ofSeconds(30);
  private static final List<String> TABLES = List.of("jobs", "job_results", "sq_requests", "sq_request_log",
      "sq_batches", "sq_batch_members", "sq_paths", "sq_build_logs", "mq_messages", "effect_claims",
      "capture_result_chunks", "capture_snapshots", "capture_stats", "sq_ci_builds", "sq_ci_checks", "audit_log");

  private Maintenance maintenance() {
    MaintenanceSettings s = MaintenanceSettings.defaults();
    return new Maintenance(ledger, "node-1", MaintenanceTasks.of(ledger, s.ages()), s.options(),
        Maintenance.Observer.NONE);
  }

  private Map<String, Long> counts() {
    Map<String, Long> out = new LinkedHashMap<>();
    for (String t : TABLES) {
      out.put(t, ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM " + t)));
    }
    return out;
  }

  private long count(String sql, Object... args) {
    return ledger.transact(tx -> tx.queryLong(sql, args));
  }

  private String finishedJob(JobKind kind) {
    String id = ledger.jobs().enqueue(JobSpec.builder(kind).build()).jobId();
    LeaseGrant g = ledger.jobs().leaseOne(LeaseRequest.of("w", Set.of(kind), LEASE)).orElseThrow();
    ledger.jobs().recordResult(id, g.epoch(), "r", new byte[] {1}, new byte[] {2});
    ledger.jobs().complete(id, g.epoch(), new Completion.Succeeded(null));
    return id;
  }

  /** A root that fanned out {@code n} file groups, {@code finish} of which succeeded. */
  private String tree(int n, int finish) {
    String root = ledger.jobs().enqueue(JobSpec.builder(JobKind.PLAN_SNAPSHOT).build()).jobId();
    LeaseGrant planner = ledger.jobs().leaseOne(LeaseRequest.of("p", Set.of(JobKind.PLAN_SNAPSHOT), LEASE))
        .orElseThrow();
    ledger.jobs().fanOut(root, planner.epoch(), java.util.stream.IntStream.range(0, n)
        .mapToObj(i -> JobSpec.builder(JobKind.EXEC_FILE_GROUP).build()).toList());
    ledger.jobs().complete(root, planner.epoch(), new Completion.Succeeded(null));
    for (LeaseGrant g : ledger.jobs().lease(LeaseRequest.of("c", Set.of(JobKind.EXEC_FILE_GROUP), LEASE)
        .withMaxJobs(finish))) {
      ledger.jobs().recordResult(g.job().id(), g.epoch(), "r", new byte[] {1}, new byte[] {2});
      ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
    }
    return root;
  }

  /** A request in its own batch with one passed path whose build printed some output. */
  private void request(Tx tx, long n, RequestInfo.State requestState, BatchInfo.State batchState, String buildJob)
      throws SQLException {
    RequestRecord r = Requests.create(tx, "q", n, List.of("git:change-" + n), Strategy.REBASE);
    String batch = "q/b" + n;
    Batches.createIfAbsent(tx, batch, "q", n, List.of(r.requestId()), List.of());
    Requests.batched(tx, r, batch);
    Requests.transition(tx, Requests.get(tx, r.requestId()), requestState, null);
    Batches.transition(tx, Batches.get(tx, batch), batchState, null);
    Paths.insertBuilding(tx, batch, Map.of(), buildJob);
    Paths.finish(tx, PathRecord.idOf(batch, Map.of()), PathRecord.PathState.PASSED, null);
    for (int seq = 1; seq <= 3; seq++) {
      tx.update("INSERT INTO sq_build_logs (job_id, seq, chunk, at, start_offset) VALUES (?, ?, ?, ?, ?)",
          buildJob, seq, "line " + seq + "\n", tx.nowMillis(), (seq - 1) * 7L);
    }
    // the same build as an external CI ran it: decided, its staging ref removed
    tx.update("INSERT INTO sq_ci_builds (build_id, queue, path_id, staging_ref, sha, checks, state, reason, ref_removed,"
        + " deadline_at, created_at, updated_at) VALUES (?, 'q', ?, 'refs/conveyor/q/b', ?, 'unit', 'PASSED', '', 1,"
        + " ?, ?, ?)", buildJob, PathRecord.idOf(batch, Map.of()), "0".repeat(40), tx.nowMillis(), tx.nowMillis(),
        tx.nowMillis());
    tx.update("INSERT INTO sq_ci_checks (build_id, check_name, passed, url, reported_by, reported_at)"
        + " VALUES (?, 'unit', 1, NULL, 'ci', ?)", buildJob, tx.nowMillis());
  }

  @Test
  void everyTableShrinksBackAfterItsAgeAndWhatIsReferencedStays() {
    String doneTree = tree(2, 2);
    String runningTree = tree(2, 1);
    String oldBuild = finishedJob(JobKind.BUILD);
    String liveBuild = finishedJob(JobKind.BUILD);
    String child = ledger.jobs().children(doneTree).get(0).id();
    ledger.transact(tx -> {
      request(tx, 1, RequestInfo.State.LANDED, BatchInfo.State.SUCCEEDED, oldBuild);
      request(tx, 2, RequestInfo.State.BATCHED, BatchInfo.State.SPECULATING, liveBuild);
      // two messages a group committed, one it has not; two dead letters
      Publisher publisher = new Publisher(TopicRegistry.builder().build(), new Wakeups());
      for (int i = 1; i <= 3; i++) {
        publisher.append(tx, "test.work", 1, "k", "m" + i, new byte[] {(byte) i});
      }
      tx.update("INSERT INTO mq_group_partitions (group_name, topic, partition_no, committed_seq, head_attempts,"
          + " head_not_before, takeovers, version) VALUES ('g', 'test.work', 0, 2, 0, 0, 0, 0)");
      publisher.append(tx, "test.work.dlq", 1, "k", "d1", new byte[] {1});
      publisher.append(tx, "test.work.dlq", 1, "k", "d2", new byte[] {2});
      // a chunk the dead attempt of a finished file group left, and the statistics of its finalized snapshot
      tx.update("INSERT INTO capture_result_chunks (job_id, result_id, chunk_index, chunk_count, data, created_at)"
          + " VALUES (?, 'r', 0, 2, ?, ?)", child, new byte[] {1}, tx.nowMillis());
      tx.update("INSERT INTO capture_snapshots (table_id, snapshot_id, files, rows_total, job_id, finalized_at)"
          + " VALUES ('t', 's1', 2, 40, ?, ?)", doneTree, tx.nowMillis());
      tx.update("INSERT INTO capture_stats (table_id, snapshot_id, target_key, record, job_id, created_at)"
          + " VALUES ('t', 's1', 'col:a', ?, ?, ?)", new byte[] {9}, child, tx.nowMillis());
      return null;
    });
    EffectClaims claims = new EffectClaims(ledger);
    var settled = (dev.conveyor.messagequeue.effects.ClaimResult.Acquired) claims.claim("push", "done", "n", LEASE);
    claims.complete("push", "done", settled.token(), new byte[] {1});
    claims.claim("push", "held", "n", Duration.ofDays(365));
    new dev.conveyor.app.audit.AuditLog(ledger).record("oidc:olga", "pause-queue", "app",
        dev.conveyor.app.audit.AuditLog.Outcome.DONE, "queue app is PAUSED");
    Map<String, Long> grown = counts();
    assertThat(grown).allSatisfy((table, n) -> assertThat(n).as(table).isPositive());

    Maintenance m = maintenance();
    m.lead();
    // nothing is old yet; only the chunk of a job that already ended is an orphan at once
    assertThat(m.runRetention().byTable()).containsExactly(Map.entry("capture_result_chunks", 1L));

    clock.advance(Duration.ofDays(8)); // past jobs (7d), messages (7d) and result chunks (1h)
    m.lead();
    RetentionReport week = m.runRetention();
    assertThat(week.failed()).isFalse();
    assertThat(ledger.jobs().find(doneTree)).isEmpty();
    assertThat(ledger.jobs().find(oldBuild)).isEmpty(); // its path's batch is finished
    assertThat(ledger.jobs().find(liveBuild)).isPresent(); // a live batch's path names it
    assertThat(ledger.jobs().tree(runningTree).children()).hasSize(2);
    assertThat(count("SELECT COUNT(*) FROM mq_messages WHERE topic = 'test.work'")).isEqualTo(1); // uncommitted
    assertThat(count("SELECT COUNT(*) FROM mq_messages WHERE topic = 'test.work.dlq'")).isEqualTo(2); // 30d
    assertThat(count("SELECT COUNT(*) FROM capture_result_chunks")).isZero();
    assertThat(count("SELECT COUNT(*) FROM sq_build_logs WHERE job_id = ?", oldBuild)).isEqualTo(3); // 14d

    clock.advance(Duration.ofDays(7)); // past build logs (14d)
    m.lead();
    m.runRetention();
    assertThat(count("SELECT COUNT(*) FROM sq_build_logs WHERE job_id = ?", oldBuild)).isZero();
    assertThat(count("SELECT COUNT(*) FROM sq_build_logs WHERE job_id = ?", liveBuild)).isEqualTo(3);
    assertThat(count("SELECT COUNT(*) FROM sq_ci_builds WHERE build_id = ?", oldBuild)).isZero();
    assertThat(count("SELECT COUNT(*) FROM sq_ci_checks WHERE build_id = ?", oldBuild)).isZero();
    assertThat(count("SELECT COUNT(*) FROM sq_ci_builds WHERE build_id = ?", liveBuild)).isEqualTo(1);

    clock.advance(Duration.ofDays(16)); // past everything (30d)
    m.lead();
    RetentionReport month = m.runRetention();
    assertThat(month.failed()).isFalse();
    Map<String, Long> after = counts();
    // the live request (2) and everything it shows stay; the finished one (1) went with its history
    assertThat(count("SELECT COUNT(*) FROM sq_requests WHERE request_id = 'q/2'")).isEqualTo(1);
    assertThat(count("SELECT COUNT(*) FROM sq_request_log WHERE request_id = 'q/2'")).isEqualTo(3);
    assertThat(count("SELECT COUNT(*) FROM sq_batches WHERE batch_id = 'q/b2'")).isEqualTo(1);
    assertThat(count("SELECT COUNT(*) FROM sq_paths WHERE batch_id = 'q/b2'")).isEqualTo(1);
    assertThat(after).containsEntry("sq_requests", 1L).containsEntry("sq_request_log", 3L)
        .containsEntry("sq_batches", 1L).containsEntry("sq_batch_members", 1L).containsEntry("sq_paths", 1L)
        .containsEntry("sq_build_logs", 3L).containsEntry("sq_ci_builds", 1L).containsEntry("sq_ci_checks", 1L)
        .containsEntry("mq_messages", 1L) // the uncommitted one; dead letters (30d) are gone
        .containsEntry("effect_claims", 1L) // the held claim
        .containsEntry("capture_result_chunks", 0L)
        .containsEntry("capture_snapshots", 1L).containsEntry("capture_stats", 1L) // the product stays
        .containsEntry("jobs", 3L + 1L) // the running tree and the live build
        .containsEntry("job_results", 1L + 1L)
        .containsEntry("audit_log", 1L); // kept 90 days
    for (String t : TABLES) {
      assertThat(after.get(t)).as(t).isLessThanOrEqualTo(grown.get(t));
    }
    clock.advance(Duration.ofDays(60)); // past the audit log's 90 days
    m.lead();
    assertThat(m.runRetention().byTable()).containsEntry("audit_log", 1L);
    assertThat(count("SELECT COUNT(*) FROM audit_log")).isZero();
  }

  @Test
  void aDryRunCountsWhatIsDueAndDeletesNothing() {
    finishedJob(JobKind.BUILD);
    clock.advance(Duration.ofDays(8));
    Maintenance m = maintenance();
    RetentionReport dry = m.dryRun();
    assertThat(dry.dryRun()).isTrue();
    assertThat(dry.byTable()).containsEntry("jobs", 1L).containsEntry("job_results", 1L);
    assertThat(count("SELECT COUNT(*) FROM jobs")).isEqualTo(1);
  }
}
