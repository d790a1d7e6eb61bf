package dev.conveyor.submitqueue.build;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.api.submitqueue.BuildSpec;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.messagequeue.effects.EffectClaims;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.testing.GitRepos;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A build is an effect: its verdict is stored with its claim before the job completes, so a job whose
 * completion was lost is finished by its next holder from that verdict, without building again.
 */
public abstract class BuildVerdictContract extends LedgerTestBase {
  @TempDir Path dir;

  @Test
  void aBuildWhoseCompletionWasLostIsCompletedFromItsClaimWithoutBuildingAgain() throws Exception {
    GitRepos repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n"));
    String head = repos.commit("feature", "main", "feature", files("feature.txt", "f\n"));
    Path runs = dir.resolve("runs.txt");
    Files.writeString(runs, "");
    String command = "echo built >> '" + runs + "'";
    SubmitQueues queues = SubmitQueues.of(SubmitQueueConfig.of(QueueConfig.of("app", repos.originUrl(), "main",
        Strategy.REBASE), command, 2));
    BuildSpec spec = BuildSpec.newBuilder().setQueue("app").setBatchId("batch-1").setPathId("path-1")
        .addSteps(MergeStep.newBuilder().setStepId("req-1").setChange(Change.newBuilder()
            .addUris(changeUri("feature", head)))).setCommand(command).setTimeoutMs(60_000).build();
    String jobId = ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).executionClass("build").maxAttempts(3)
        .payload(ProtoJson.toBytes(spec)).build()).jobId();

    Duration lease = Duration.ofSeconds(30);
    AtomicBoolean lost = new AtomicBoolean();
    List<String> outcomes = new CopyOnWriteArrayList<>();
    BuildObserver observer = new BuildObserver() {
      @Override
      public void built(String queue, String outcome, Duration took) {
        outcomes.add(outcome);
      }

      @Override
      public void verdictRecorded(String id) {
        if (lost.compareAndSet(false, true)) {
          // the worker stalls here past its lease (a pause, a partition): the job is taken back, so the
          // completion it is about to send is refused, as a lost one would be
          clock.advance(lease.plusSeconds(1));
          assertThat(ledger.jobs().reapExpired(10)).isEqualTo(1);
          clock.advance(Duration.ofMinutes(2)); // past the retry backoff
        }
      }
    };
    try (Streams streams = new Streams(ledger, SubmitQueueHarness.registry());
        GitMerger merger = new GitMerger(new RepositoryCache(dir.resolve("cache")), ledger.clock());
        BuildWorker worker = new BuildWorker(ledger, new Signals(streams.publisher()), queues, merger,
            new BuildWorker.Options("builder", 1, lease, Duration.ofMillis(20), dir.resolve("builds"), observer,
                BuildRunners.withoutBwrap(dir.resolve("builds")))).start()) {
      await().atMost(Duration.ofSeconds(60)).until(() -> ledger.read(tx -> tx.queryLong(
          "SELECT COUNT(*) FROM jobs WHERE id = ? AND state = 'SUCCEEDED'", jobId)) == 1);
      await().atMost(Duration.ofSeconds(10)).until(() -> outcomes.size() == 2);
    }
    assertThat(Files.readAllLines(runs)).as("the build command ran once").containsExactly("built");
    assertThat(outcomes).containsExactly("passed", "replayed");
    var claim = new EffectClaims(ledger).view(BuildVerdicts.SCOPE, jobId).orElseThrow();
    assertThat(claim.state()).isEqualTo("COMPLETED");
    long signals = ledger.read(tx -> tx.queryLong("SELECT COUNT(*) FROM mq_messages WHERE message_id = ?",
        "path-1@" + jobId + "#built"));
    assertThat(signals).as("one verdict reached the pipeline").isEqualTo(1);
    long attempts = ledger.read(tx -> tx.queryLong("SELECT attempts FROM jobs WHERE id = ?", jobId));
    assertThat(attempts).isEqualTo(2);
  }
}
