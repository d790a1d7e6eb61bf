package dev.conveyor.bench;

import dev.conveyor.api.Contracts;
import dev.conveyor.api.TopicKeys;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.LedgerOptions;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.submitqueue.build.BuildRunners;
import dev.conveyor.submitqueue.build.BuildWorker;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.pipeline.Signals;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * The build worker's own loop on N jobs that need no build: each is leased (free slots together),
 * started, found to name no configured queue, and completed with its BuildSignal published in the same
 * transaction, as serve's worker does for every build. What it leaves out is the git export and the
 * build command. The clock stops when no job is left queued or running; every job must have ended.
 */
final class BuildLoopBench {
  private BuildLoopBench() {}

  static JobsBench.Result run(String name, String url, BenchArgs a) throws Exception {
    Path dir = Files.createTempDirectory("conveyor-build-loop");
    TopicRegistry.Builder topics = TopicRegistry.builder();
    for (var message : TopicKeys.boundMessages(Contracts.files())) {
      for (String key : TopicKeys.of(message)) {
        topics.register(TopicKey.of(key), TopicConfig.defaults(key).withPartitions(4));
      }
    }
    try (Ledger ledger = Ledger.open(LedgerOptions.defaults(url).withPoolSize(a.threads() + 4));
        Streams streams = new Streams(ledger, topics.build());
        GitMerger merger = new GitMerger(new RepositoryCache(dir.resolve("cache")), Clock.systemUTC())) {
      List<JobSpec> specs = new ArrayList<>();
      for (int i = 0; i < a.jobs(); i++) {
        byte[] spec = dev.conveyor.api.ProtoJson.toBytes(dev.conveyor.api.submitqueue.BuildSpec.newBuilder()
            .setQueue("elsewhere").setBatchId("batch-" + i).setPathId("path-" + i).build());
        specs.add(JobSpec.builder(JobKind.BUILD).executionClass("build").payload(spec).maxAttempts(1).build());
        if (specs.size() == 1000 || i == a.jobs() - 1) {
          ledger.jobs().enqueueAll(specs);
          specs.clear();
        }
      }
      // the jobs name queue 'elsewhere', which this worker does not serve: each ends without a build
      SubmitQueues queues = SubmitQueues.of(SubmitQueueConfig.of(QueueConfig.of("other", dir.resolve("none.git")
          .toString(), "main", Strategy.REBASE), "true", 1));
      long start = System.nanoTime();
      try (BuildWorker worker = new BuildWorker(ledger, new Signals(streams.publisher()), queues, merger,
          BuildWorker.Options.defaults("bench-builds", dir.resolve("builds")).withParallelism(a.threads())
              .withIdlePoll(Duration.ofMillis(50)).withRunners(BuildRunners.withoutBwrap(dir.resolve("builds"))))
          .start()) {
        long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
        while (ledger.read(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE state IN ('QUEUED', 'RUNNING')")) > 0) {
          if (System.nanoTime() > deadline) {
            throw new IllegalStateException(name + ": jobs still open after 10 minutes");
          }
          Thread.sleep(5); // a benchmark polls for the end; the clock is read once it is seen
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      long ended = ledger.read(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE state = 'FAILED'"
          + " AND last_error LIKE '%is not configured on this build worker%'"));
      if (ended != a.jobs()) {
        List<String> how = ledger.read(tx -> tx.query("SELECT state, last_error, COUNT(*) FROM jobs GROUP BY state,"
            + " last_error", rs -> rs.getString(1) + " " + rs.getString(2) + " x" + rs.getLong(3)));
        throw new IllegalStateException(name + ": " + ended + " of " + a.jobs() + " jobs ended as expected: " + how);
      }
      return new JobsBench.Result(name, a.jobs(), seconds, Double.NaN, Double.NaN, HeapPeak.peakMb(), Double.NaN);
    } finally {
      Shell.delete(dir);
    }
  }
}
