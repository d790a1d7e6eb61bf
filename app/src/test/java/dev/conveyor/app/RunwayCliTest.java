package dev.conveyor.app;

import dev.conveyor.app.testing.Cli.Run;
import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.app.testing.Cli.run;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.base.Change;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.api.runway.Outcome;
import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.app.wiring.Topics;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.runway.service.RunwayTopics;
import dev.conveyor.runway.testing.GitRepos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class RunwayCliTest {
  @TempDir Path dir;
  private GitRepos repos;


  @BeforeEach
  void repos() {
    repos = GitRepos.create(dir.resolve("repos"), Map.of("README.md", "hello\n", "app.txt", "one\n"));
  }

  @Test
  void mergeByHandPushesAndPrintsEachStep() {
    String a = repos.commit("a", "main", "a", files("a.txt", "a\n"));
    String b = repos.commit("b", "a", "b", files("b.txt", "b\n"));

    Run r = run("runway", "merge", "--queue", "app", "--remote", repos.originUrl(), "--data-dir",
        dir.resolve("data").toString(), "--change", changeUri("a", a), "--change", changeUri("b", b));

    assertThat(r.exit()).as(r.err()).isZero();
    assertThat(r.out()).contains("merge into queue app: SUCCEEDED, pushed", "STEP", a, b);
    assertThat(repos.tip("main")).isEqualTo(b);
  }

  @Test
  void dryRunOfAConflictExitsOneWithTheReasonAndPushesNothing() {
    repos.commit("main", "main", "edit", files("app.txt", "uno\n"));
    String clash = repos.commit("clash", "main~1", "clash", files("app.txt", "eins\n"));
    String tip = repos.tip("main");

    Run r = run("runway", "merge", "--queue", "app", "--remote", repos.originUrl(), "--dry-run", "--json",
        "--data-dir", dir.resolve("data").toString(), "--change", changeUri("clash", clash));

    assertThat(r.exit()).isEqualTo(1);
    assertThat(r.out()).contains("\"outcome\":\"FAILED\"", "app.txt", "\"step_id\":\"1\"");
    assertThat(repos.tip("main")).isEqualTo(tip);
  }

  @Test
  void badInputIsOneLineWithAHint() throws Exception {
    Run noConfig = run("runway", "merge", "--queue", "app", "--data-dir", dir.toString(), "--change", "x");
    assertThat(noConfig.exit()).isEqualTo(1);
    assertThat(noConfig.err()).contains("error: no Runway queue configuration", "hint: pass --queues FILE")
        .doesNotContain("Exception");

    Path queues = dir.resolve("queues.properties");
    Files.writeString(queues, "queue.app.remote=" + repos.originUrl() + "\nqueue.app.strategy=MERGE\n");
    Run badUri = run("runway", "merge", "--queue", "app", "--queues", queues.toString(), "--data-dir", dir.toString(),
        "--change", "feature@abc");
    assertThat(badUri.exit()).isEqualTo(1);
    assertThat(badUri.out()).contains("FAILED", "only the change:// scheme", "change://<remote>/<ref>@<40-hex sha>");

    Run list = run("runway", "queues", "--queues", queues.toString());
    assertThat(list.exit()).isZero();
    assertThat(list.out()).contains("app", repos.originUrl(), "main", "MERGE");
  }

  @Test
  void serveRunsRunwayForTheConfiguredQueues() throws Exception {
    String head = repos.commit("feature", "main", "feature", files("f.txt", "f\n"));
    Path data = dir.resolve("data");
    Files.createDirectories(data);
    Path queues = data.resolve("queues.properties");
    Files.writeString(queues, "queue.app.remote=" + repos.originUrl() + "\n");
    var config = new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "127.0.0.1", 0,
        ControlPlane.AuthMode.NONE, null, "conveyor", false, 1, new CapturePlanner.Limits(2, 1L << 30),
        dev.conveyor.submitqueue.config.SubmitQueues.load(queues), 0);
    AtomicReference<MergeResult> result = new AtomicReference<>();
    try (ControlPlane plane = ControlPlane.start(config); Streams streams = new Streams(plane.ledger(), Topics.registry())) {
      assertThat(plane.runsRunway()).isTrue();
      MergeRequest request = MergeRequest.newBuilder().setId("batch-1").setQueueName("app")
          .addSteps(MergeStep.newBuilder().setStepId("r1").setChange(Change.newBuilder().addUris(
              changeUri("feature", head)))).build();
      plane.ledger().transact(tx -> streams.publisher().publish(tx, RunwayTopics.MERGE, "app", "batch-1#merge",
          ProtoJson.toBytes(request)));
      var caller = streams.consume(RunwayTopics.MERGE_SIGNAL, ConsumerOptions.defaults("caller", "t"), d -> {
            result.set(d.payloadAs(MergeResult.getDefaultInstance()));
            return dev.conveyor.messagequeue.consume.Outcome.ack();
          });
      await().atMost(Duration.ofSeconds(30)).until(() -> result.get() != null);
      caller.close(Duration.ofSeconds(5));
    }
    assertThat(result.get().getOutcome()).isEqualTo(Outcome.SUCCEEDED);
    assertThat(result.get().getSteps(0).getOutputsList()).containsExactly(head);
    assertThat(repos.tip("main")).isEqualTo(head);
  }
}
