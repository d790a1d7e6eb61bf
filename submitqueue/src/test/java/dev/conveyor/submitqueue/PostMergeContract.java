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
abstract class PostMergeContract extends LedgerTestBase {
  @TempDir Path tmp;

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

  /**
   * A batch of three lands as three commits and only its tip is checked: red. Bisecting the commits since the
   * last green one asks for verdicts on the first two (the middle one red, the first green) and names the
   * middle request; 'revert' takes back exactly its commit through the queue, which resumes, and main's next
   * check is green.
   */
  @Test
  void aRedBatchIsBisectedToItsCulpritAndItsRevertLandsThroughTheQueue() throws Exception {
    Path gates = Files.createDirectories(tmp.resolve("sq").resolve("gates"));
    Path smoke = Files.writeString(gates.resolve("smoke.sh"), "if [ -e POSTMERGE-RED ]; then echo red >&2; exit 7; fi\n");
    try (SubmitQueueHarness sq = new SubmitQueueHarness(tmp.resolve("sq"), ledger, StageDecorator.NONE, 4,
        SubmitQueueConfig.ConflictAnalyzer.PATHS, 2, q -> q.withBatching(3, Duration.ofSeconds(30)),
        queues -> queues.withPostMerge("app", "sh " + smoke))) {
      String good = sq.land(changeUri("good", sq.repos.commit("good", "main", "good", files("good.txt", "g\n"))));
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> sq.state(good) == State.BATCHED);
      clock.advance(Duration.ofSeconds(31)); // the ledger's clock stands still: end the lone batch's wait
      assertThat(sq.awaitTerminal(good).getState()).isEqualTo(State.LANDED);
      String greenTip = sq.repos.tip("main");
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> ledger.read(tx -> MainChecks.latest(tx, "app",
          true)).map(c -> c.sha().equals(greenTip)).orElse(false));

      String a = sq.land(changeUri("a", sq.repos.commit("a", "main", "a", files("a.txt", "a\n"))));
      String b = sq.land(changeUri("b", sq.repos.commit("b", "main", "b", files("POSTMERGE-RED", "x\n"))));
      String c = sq.land(changeUri("c", sq.repos.commit("c", "main", "c", files("c.txt", "c\n"))));
      for (String id : java.util.List.of(a, b, c)) {
        assertThat(sq.awaitTerminal(id).getState()).as(id + ": its batch's build passed").isEqualTo(State.LANDED);
      }
      assertThat(sq.status(a).getBatch().getRequestIdsCount()).as("one batch").isEqualTo(3);
      String culprit = Awaitility.await().atMost(Duration.ofSeconds(90)).until(() -> sq.control.getQueueState(
          GetQueueStateRequest.newBuilder().setQueue("app").build()).getReason(), r -> r.contains("is the culprit"));
      String aCommit = ledger.read(tx -> tx.queryOne("SELECT sha FROM sq_landed_commits WHERE request_id = ?",
          rs -> rs.getString(1), a)).orElseThrow();
      assertThat(culprit).contains("request " + b + " ", "bisecting", "(last green " + aCommit.substring(0, 12) + ")", "exited 7", "conveyor revert " + b);
      // only the tip was checked by the landing; the bisection asked for the other two
      long judged = ledger.read(tx -> tx.queryLong("SELECT COUNT(*) FROM sq_main_checks WHERE queue = 'app'"));
      assertThat(judged).as("one check per commit: good, c (landings), b and a (bisection)").isEqualTo(4);

      var revert = sq.control.revert(dev.conveyor.api.submitqueue.RevertRequest.newBuilder().setRequestId(b)
          .setChangedBy("test").build());
      assertThat(revert.getResumed()).isTrue();
      assertThat(revert.getRef()).isEqualTo("refs/conveyor/app/revert/" + b.substring(b.indexOf('/') + 1) + "/"
          + revert.getCommit().substring(0, 12));
      var inFlight = org.assertj.core.api.Assertions.catchThrowableOfType(() -> sq.control.revert(
          dev.conveyor.api.submitqueue.RevertRequest.newBuilder().setRequestId(b).setChangedBy("t").build()),
          io.grpc.StatusRuntimeException.class);
      assertThat(inFlight.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION);
      assertThat(inFlight.getStatus().getDescription()).contains("already being reverted as "
          + revert.getRevertRequestId());
      // urgent: it goes alone and does not wait for its batch to fill (no clock to move, no lease to expire)
      assertThat(sq.awaitTerminal(revert.getRevertRequestId()).getState()).isEqualTo(State.LANDED);
      String tree = GitCli.run(sq.repos.origin(), "ls-tree", "--name-only", "main");
      assertThat(tree).contains("good.txt", "a.txt", "c.txt").doesNotContain("POSTMERGE-RED");
      String revertedTip = sq.repos.tip("main");
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> GitCli.run(sq.repos.origin(), "for-each-ref",
          "--format=%(objectname)", "refs/conveyor/app/last-green").strip().equals(revertedTip));
      assertThat(sq.control.getQueueState(GetQueueStateRequest.newBuilder().setQueue("app").build()).getState())
          .isEqualTo(QueueState.QUEUE_ACTIVE);

      // what cannot be reverted is refused, naming why
      var twice = org.assertj.core.api.Assertions.catchThrowableOfType(() -> sq.control.revert(
          dev.conveyor.api.submitqueue.RevertRequest.newBuilder().setRequestId(b).setChangedBy("t").build()),
          io.grpc.StatusRuntimeException.class);
      assertThat(twice.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.FAILED_PRECONDITION);
      assertThat(twice.getStatus().getDescription()).contains("what it would take back is already gone");
      var unknown = org.assertj.core.api.Assertions.catchThrowableOfType(() -> sq.control.revert(
          dev.conveyor.api.submitqueue.RevertRequest.newBuilder().setRequestId("app/999").setChangedBy("t").build()),
          io.grpc.StatusRuntimeException.class);
      assertThat(unknown.getStatus().getCode()).isEqualTo(io.grpc.Status.Code.NOT_FOUND);
    }
  }

  /**
   * A red landing check that comes in after a later change already checked green does not pause the queue:
   * main recovered. The red check is held until the fix's green verdict is recorded.
   */
  @Test
  void aRedCheckOvertakenByALaterGreenOneDoesNotPause() throws Exception {
    Path gates = Files.createDirectories(tmp.resolve("sq").resolve("gates"));
    Path hold = gates.resolve("hold-red");
    Files.writeString(hold, "");
    Path smoke = Files.writeString(gates.resolve("smoke.sh"), "if [ -e POSTMERGE-RED ]; then while [ -e '" + hold
        + "' ]; do sleep 0.05; done; echo red >&2; exit 7; fi\n");
    try (SubmitQueueHarness sq = new SubmitQueueHarness(tmp.resolve("sq"), ledger, StageDecorator.NONE, 4,
        SubmitQueueConfig.ConflictAnalyzer.PATHS, 3, q -> q, queues -> queues.withPostMerge("app", "sh " + smoke))) {
      String red = sq.land(changeUri("red", sq.repos.commit("red", "main", "red", files("POSTMERGE-RED", "x\n"))));
      assertThat(sq.awaitTerminal(red).getState()).isEqualTo(State.LANDED);
      String redTip = sq.repos.tip("main");
      sq.repos.syncMain(); // the fix removes the file from main as it is now
      GitCli.run(sq.repos.work(), "checkout", "-q", "-B", "fix", "main");
      GitCli.run(sq.repos.work(), "rm", "-q", "POSTMERGE-RED");
      GitCli.run(sq.repos.work(), "commit", "-q", "-m", "fix");
      GitCli.run(sq.repos.work(), "push", "-q", "-f", "origin", "fix");
      String fix = sq.land(changeUri("fix", GitCli.run(sq.repos.work(), "rev-parse", "HEAD")));
      assertThat(sq.awaitTerminal(fix).getState()).isEqualTo(State.LANDED);
      String fixTip = sq.repos.tip("main");
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> ledger.read(tx -> MainChecks.latest(tx, "app",
          true)).map(c -> c.sha().equals(fixTip)).orElse(false));
      Files.delete(hold);
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> ledger.read(tx -> tx.queryLong(
          "SELECT COUNT(*) FROM sq_main_checks WHERE sha = ? AND state = 'RED'", redTip)) == 1);
      assertThat(sq.control.getQueueState(GetQueueStateRequest.newBuilder().setQueue("app").build()).getState())
          .isEqualTo(QueueState.QUEUE_ACTIVE);
    }
  }

  /** A queue a person drains keeps that state when a check of what was already landing comes back red. */
  @Test
  void aPersonsDrainStandsWhenMainTurnsRed() throws Exception {
    Path gates = Files.createDirectories(tmp.resolve("sq").resolve("gates"));
    Path smoke = Files.writeString(gates.resolve("smoke.sh"), "if [ -e POSTMERGE-RED ]; then echo red >&2; exit 7; fi\n");
    try (SubmitQueueHarness sq = new SubmitQueueHarness(tmp.resolve("sq"), ledger, StageDecorator.NONE, 4,
        SubmitQueueConfig.ConflictAnalyzer.PATHS, 2, q -> q, queues -> queues.withPostMerge("app", "sh " + smoke))) {
      sq.holdBuilds();
      String red = sq.land(changeUri("red", sq.repos.commit("red", "main", "red", files("POSTMERGE-RED", "x\n"))));
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> sq.runningBuilds() == 1);
      sq.control.setQueueState(dev.conveyor.api.submitqueue.SetQueueStateRequest.newBuilder().setQueue("app")
          .setState(QueueState.QUEUE_DRAINING).setReason("moving repos").setChangedBy("ops").build());
      sq.releaseBuilds();
      assertThat(sq.awaitTerminal(red).getState()).as("what is active finishes").isEqualTo(State.LANDED);
      String redTip = sq.repos.tip("main");
      Awaitility.await().atMost(Duration.ofSeconds(60)).until(() -> ledger.read(tx -> MainChecks.latest(tx, "app",
          false)).map(c -> c.sha().equals(redTip) && !c.green()).orElse(false));
      QueueStateInfo state = sq.control.getQueueState(GetQueueStateRequest.newBuilder().setQueue("app").build());
      assertThat(state.getState()).isEqualTo(QueueState.QUEUE_DRAINING);
      assertThat(state.getChangedBy()).isEqualTo("ops");
      assertThat(state.getReason()).isEqualTo("moving repos");
    }
  }
}
