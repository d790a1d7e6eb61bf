package dev.conveyor.submitqueue.build;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** A worker with free slots leases for all of them in one transaction, and runs every job it leased. */
class BuildWorkerLeasingTest {
  @TempDir Path dir;

  @Test
  void freeSlotsAreLeasedTogetherAndEveryLeasedJobRuns() {
    try (Ledger ledger = Ledger.open("sqlite:" + dir.resolve("ledger.db"));
        Streams streams = new Streams(ledger, SubmitQueueHarness.registry());
        GitMerger merger = new GitMerger(new RepositoryCache(dir.resolve("cache")), ledger.clock())) {
      // six builds are waiting before the worker starts; their (empty) specs name no queue, so each ends at once
      for (int i = 0; i < 6; i++) {
        ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).executionClass("build").maxAttempts(1).build());
      }
      SubmitQueues queues = SubmitQueues.of(SubmitQueueConfig.of(QueueConfig.of("app", dir.resolve("origin.git")
          .toString(), "main", Strategy.REBASE), "true", 2));
      List<Integer> leases = new CopyOnWriteArrayList<>();
      BuildObserver observer = countingLeases(leases);
      try (BuildWorker worker = new BuildWorker(ledger, new Signals(streams.publisher()), queues, merger,
          BuildWorker.Options.defaults("builder", dir.resolve("builds")).withParallelism(4)
              .withIdlePoll(Duration.ofMillis(20)).withObserver(observer)
              .withRunners(BuildRunners.withoutBwrap(dir.resolve("builds")))).start()) {
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.read(tx -> tx.queryLong(
            "SELECT COUNT(*) FROM jobs WHERE state IN ('QUEUED', 'RUNNING')")) == 0);
      }
      assertThat(leases.get(0)).as("the first lease fills all four free slots").isEqualTo(4);
      assertThat(leases.stream().mapToInt(Integer::intValue).sum()).isEqualTo(6);
    }
  }

  @Test
  void aBuildQueuedWhileTheWorkerIdlesIsLeasedAtOnceNotAtItsNextPoll() {
    try (Ledger ledger = Ledger.open("sqlite:" + dir.resolve("ledger.db"));
        Streams streams = new Streams(ledger, SubmitQueueHarness.registry());
        GitMerger merger = new GitMerger(new RepositoryCache(dir.resolve("cache")), ledger.clock())) {
      SubmitQueues queues = SubmitQueues.of(SubmitQueueConfig.of(QueueConfig.of("app", dir.resolve("origin.git")
          .toString(), "main", Strategy.REBASE), "true", 2));
      List<Integer> leases = new CopyOnWriteArrayList<>();
      BuildObserver observer = countingLeases(leases);
      long readyBefore = ledger.jobs().ready().version();
      try (BuildWorker worker = new BuildWorker(ledger, new Signals(streams.publisher()), queues, merger,
          BuildWorker.Options.defaults("builder", dir.resolve("builds")).withParallelism(1)
              .withIdlePoll(Duration.ofMinutes(10)).withObserver(observer)
              .withRunners(BuildRunners.withoutBwrap(dir.resolve("builds")))).start()) {
        ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).executionClass("build").maxAttempts(1).build());
        // with a ten-minute poll, only the enqueue's wake-up can bring the worker to it this soon (or its
        // very first lease, had the enqueue come before it)
        await().atMost(Duration.ofSeconds(30)).until(() -> ledger.read(tx -> tx.queryLong(
            "SELECT COUNT(*) FROM jobs WHERE state IN ('QUEUED', 'RUNNING')")) == 0);
      }
      assertThat(ledger.jobs().ready().version()).isGreaterThan(readyBefore);
      assertThat(leases).containsExactly(1);
    }
  }

  /** An observer that records how many jobs each lease took. */
  private static BuildObserver countingLeases(List<Integer> leases) {
    return new BuildObserver() {
      @Override
      public void built(String queue, String outcome, Duration took) {}

      @Override
      public void leased(int jobs) {
        leases.add(jobs);
      }
    };
  }
}
