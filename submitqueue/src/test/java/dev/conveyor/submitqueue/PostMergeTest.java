package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.submitqueue.GetQueueStateRequest;
import dev.conveyor.api.submitqueue.QueueState;
import dev.conveyor.api.submitqueue.QueueStateInfo;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.health.MainChecks;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * post-merge-command runs on every commit a batch puts on main. A change whose own build passes but that
 * turns main red (the post-merge check fails on the file it adds) pauses the queue, naming the commit, the
 * request and the last green commit, and refs/conveyor/app/last-green stays on the last green commit.
 */
class PostMergeTest extends LedgerTestBase {
  @TempDir Path tmp;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + tmp.resolve("ledger.db");
  }

  @Test
  void aRedMainPausesTheQueueNamingTheCulpritAndLastGreenStaysBehind() throws Exception {
    Path gates = Files.createDirectories(tmp.resolve("sq").resolve("gates"));
    Path smoke = Files.writeString(gates.resolve("smoke.sh"), "if [ -e POSTMERGE-RED ]; then echo red >&2; exit 7; fi\n");
    try (SubmitQueueHarness sq = new SubmitQueueHarness(tmp.resolve("sq"), ledger, StageDecorator.NONE, 4,
        SubmitQueueConfig.ConflictAnalyzer.PATHS, 2, q -> q, queues -> queues.withPostMerge("app", "sh " + smoke))) {
      String good = sq.land(changeUri("good", sq.repos.commit("good", "main", "good", files("good.txt", "g\n"))));
      assertThat(sq.awaitTerminal(good).getState()).isEqualTo(State.LANDED);
      String greenTip = sq.repos.tip("main");
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> GitCli.run(sq.repos.origin(), "for-each-ref",
          "--format=%(objectname)", "refs/conveyor/app/last-green").strip().equals(greenTip));

      String red = sq.land(changeUri("red", sq.repos.commit("red", "main", "red", files("POSTMERGE-RED", "x\n"))));
      assertThat(sq.awaitTerminal(red).getState()).as("its own build passed").isEqualTo(State.LANDED);
      String redTip = sq.repos.tip("main");
      QueueStateInfo paused = Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> sq.control.getQueueState(
          GetQueueStateRequest.newBuilder().setQueue("app").build()), s -> s.getState() == QueueState.QUEUE_PAUSED);
      assertThat(paused.getChangedBy()).isEqualTo(MainChecks.PAUSED_BY);
      assertThat(paused.getReason()).contains("main is red at " + redTip.substring(0, 12), red,
          "exited 7", "last green " + greenTip.substring(0, 12), "conveyor queue resume app");
      assertThat(GitCli.run(sq.repos.origin(), "for-each-ref", "--format=%(objectname)",
          "refs/conveyor/app/last-green").strip()).isEqualTo(greenTip);
      var health = ledger.read(tx -> MainChecks.latest(tx, "app", false)).orElseThrow();
      assertThat(health.green()).isFalse();
      assertThat(health.sha()).isEqualTo(redTip);

      // paused: the next change waits instead of landing on a red main
      String next = sq.land(changeUri("next", sq.repos.commit("next", "main", "next", files("next.txt", "n\n"))));
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> sq.state(next) == State.BATCHED);
      Awaitility.await().during(Duration.ofMillis(500)).atMost(Duration.ofSeconds(5))
          .until(() -> sq.state(next) == State.BATCHED);
    }
  }
}
