package dev.conveyor.submitqueue.speculate;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.submitqueue.BatchInfo;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.submitqueue.batch.BatchRecord;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * The planner on a real ledger, driven pass by pass: a build whose job ran out of attempts without a
 * verdict (infrastructure) is built again by a new job, then fails its batch whole; a build's verdict
 * recorded on its path is a verdict, and a failed batch of two is bisected.
 */
public abstract class PlannerRebuildContract extends LedgerTestBase {
  private Streams streams;
  private SpeculationPlanner planner;
  private final SubmitQueueConfig queue = SubmitQueueConfig.of(QueueConfig.of("app", "file:///nowhere", "main",
      Strategy.REBASE), "true", 4);

  @BeforeEach
  void start() {
    streams = new Streams(ledger, SubmitQueueHarness.registry());
    planner = new SpeculationPlanner(ledger.jobs(), new Signals(streams.publisher()));
    ledger.transact(tx -> {
      for (long n = 1; n <= 2; n++) {
        RequestRecord r = Requests.create(tx, "app", n, List.of("change://origin/c" + n + "@" + "a".repeat(40)),
            Strategy.REBASE);
        Requests.transition(tx, r, State.VALIDATED, null);
        Requests.batched(tx, Requests.get(tx, r.requestId()), "app/b1");
      }
      Batches.createIfAbsent(tx, "app/b1", "app", 1, List.of("app/1", "app/2"), List.of());
      return null;
    });
  }

  @AfterEach
  void stop() {
    streams.close();
  }

  private void pass() {
    ledger.transact(tx -> {
      planner.pass(tx, queue);
      return null;
    });
  }

  private PathRecord path() {
    return ledger.transact(tx -> Paths.forBatch(tx, "app/b1")).get(0);
  }

  private BatchRecord batch() {
    return ledger.transact(tx -> Batches.get(tx, "app/b1"));
  }

  private void jobRanOutOfAttempts(String jobId) {
    ledger.transact(tx -> tx.update("UPDATE jobs SET state = 'FAILED', attempts = max_attempts, last_error = 'disk full'"
        + " WHERE id = ?", jobId));
  }

  @Test
  void aBuildWithoutAVerdictIsBuiltAgainThenFailsItsBatchWholeWithoutBisection() {
    pass();
    PathRecord first = path();
    assertThat(first.state()).isEqualTo(PathRecord.PathState.BUILDING);
    String job = first.jobId();
    for (int rebuild = 1; rebuild <= SpeculationPlanner.REBUILDS; rebuild++) {
      jobRanOutOfAttempts(job);
      pass();
      PathRecord again = path();
      assertThat(again.state()).as("rebuild " + rebuild).isEqualTo(PathRecord.PathState.BUILDING);
      assertThat(again.jobId()).isNotEqualTo(job);
      assertThat(ledger.jobs().get(again.jobId()).payload()).isEqualTo(
          ledger.jobs().get(job).payload());
      job = again.jobId();
    }
    jobRanOutOfAttempts(job);
    pass();
    assertThat(path().noVerdict()).isTrue();
    BatchRecord b = batch();
    assertThat(b.state()).isEqualTo(BatchInfo.State.FAILED);
    assertThat(b.reason()).startsWith("no build verdict").contains("disk full", "3 build jobs");
    assertThat(planner.bisections()).isZero();
  }

  @Test
  void aVerdictRecordedWithTheJobsEndIsAVerdictAndSplitsTheBatch() {
    pass();
    PathRecord p = path();
    ledger.transact(tx -> {
      Paths.finish(tx, p.pathId(), PathRecord.PathState.FAILED, "build x: the build command exited 3", null);
      return tx.update("UPDATE jobs SET state = 'FAILED', last_error = 'the build command exited 3' WHERE id = ?",
          p.jobId());
    });
    pass();
    assertThat(batch().state()).isEqualTo(BatchInfo.State.SPLIT);
    assertThat(planner.bisections()).isEqualTo(1);
  }
}
