package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.api.runway.Outcome;
import dev.conveyor.api.submitqueue.CancelRequest;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.runway.service.RunwayTopics;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.testing.Faults;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import java.nio.file.Path;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicReference;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/** Cancels at every point, late results, redeliveries and dead letters: nothing lost, nothing doubled. */
public abstract class FaultsContract extends LedgerTestBase {
  private static final String APP = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n";

  @TempDir
  Path tmp;

  SubmitQueueHarness sq;

  SubmitQueueHarness start(StageDecorator decorator) {
    sq = new SubmitQueueHarness(tmp, ledger, decorator, 4, SubmitQueueConfig.ConflictAnalyzer.PATHS);
    return sq;
  }

  @AfterEach
  void stop() {
    if (sq != null) {
      sq.close();
    }
  }

  private void cancel(String id) {
    sq.gateway.cancel(CancelRequest.newBuilder().setRequestId(id).build());
  }

  private long batches() {
    return ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM sq_batches"));
  }

  @Test
  void cancelBeforeBatchingEndsTheRequestWithoutABatch() {
    Faults.Gate gate = new Faults.Gate("validate");
    start(gate);
    String head = sq.repos.commit("feature", "main", "feature", files("docs/guide.txt", "x\n"));
    String id = sq.land(changeUri("feature", head));
    await().atMost(Duration.ofSeconds(30)).until(() -> gate.held() > 0);

    cancel(id);
    sq.awaitState(id, State.CANCELLED);
    gate.open();

    assertThat(sq.history(id)).containsExactly(State.STARTED, State.CANCELLING, State.CANCELLED);
    assertThat(batches()).isZero();
    assertThat(sq.repos.count("main")).isEqualTo(1);
  }

  @Test
  void cancelDuringBatchingIsDecidedByTheCasAndLeavesNoOrphanBatch() {
    Faults.Gate gate = new Faults.Gate("batch");
    start(gate);
    String head = sq.repos.commit("feature", "main", "feature", files("docs/guide.txt", "x\n"));
    String id = sq.land(changeUri("feature", head));
    sq.awaitState(id, State.VALIDATED);
    await().atMost(Duration.ofSeconds(30)).until(() -> gate.held() > 0);

    cancel(id);
    gate.open();

    assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.CANCELLED);
    assertThat(sq.history(id)).containsExactly(State.STARTED, State.VALIDATED, State.CANCELLING, State.CANCELLED);
    await().during(Duration.ofMillis(300)).atMost(Duration.ofSeconds(5)).until(() -> batches() == 0);
  }

  @Test
  void cancelAfterBatchingCancelsItsBuildWakesItsDependentAndIgnoresALateMergeResult() throws Exception {
    start(StageDecorator.NONE);
    sq.holdBuilds();
    String a = sq.repos.commit("a", "main", "a", files("src/app.txt", "ONE\n" + APP.substring(4)));
    String b = sq.repos.commit("b", "main", "b", files("src/app.txt", APP.replace("eight", "EIGHT")));
    String ra = sq.land(changeUri("a", a));
    String rb = sq.land(changeUri("b", b));
    sq.awaitState(rb, State.BATCHED);
    await().atMost(Duration.ofSeconds(30)).until(() -> sq.runningBuilds() >= 2);
    String batchA = sq.status(ra).getBatch().getBatchId();

    cancel(ra);
    assertThat(sq.awaitTerminal(ra).getState()).isEqualTo(State.CANCELLED);
    await().atMost(Duration.ofSeconds(30)).until(() -> ledger.transact(tx -> tx.queryLong(
        "SELECT COUNT(*) FROM sq_paths WHERE batch_id = ? AND state = 'BUILDING'", batchA)) == 0);
    MergeResult late = MergeResult.newBuilder().setId(batchA).setQueueName("app").setOutcome(Outcome.SUCCEEDED).build();
    ledger.transact(tx -> sq.streams.publisher().publish(tx, RunwayTopics.MERGE_SIGNAL, "app", "late#1",
        ProtoJson.toBytes(late)));
    sq.releaseBuilds();

    assertThat(sq.awaitTerminal(rb).getState()).isEqualTo(State.LANDED);
    assertThat(sq.status(ra).getBatch().getState().name()).isEqualTo("CANCELLED");
    assertThat(sq.state(ra)).isEqualTo(State.CANCELLED);
    assertThat(sq.repos.show("main", "src/app.txt")).startsWith("one").contains("EIGHT");
    long liveBuildsOfA = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs j JOIN sq_paths p"
        + " ON p.job_id = j.id WHERE p.batch_id = ? AND j.state NOT IN ('CANCELLED', 'CANCELLING')", batchA));
    assertThat(liveBuildsOfA).isZero();
  }

  @Test
  void aMergeThatFailsEndsTheBatchFailedAndItsRequestsInError() throws Exception {
    start(StageDecorator.NONE);
    sq.holdBuilds();
    String a = sq.repos.commit("a", "main", "a", files("src/app.txt", "ONE\n" + APP.substring(4)));
    String ra = sq.land(changeUri("a", a));
    await().atMost(Duration.ofSeconds(30)).until(() -> sq.runningBuilds() >= 1);
    sq.repos.syncMain();
    sq.repos.commit("main", "main", "pushed around the queue", files("src/app.txt", "uno\n" + APP.substring(4)));
    String tip = sq.repos.tip("main");

    sq.releaseBuilds();

    var info = sq.awaitTerminal(ra);
    assertThat(info.getState()).isEqualTo(State.ERROR);
    assertThat(info.getReason()).contains("merge failed", "src/app.txt");
    assertThat(sq.status(ra).getBatch().getState().name()).isEqualTo("FAILED");
    assertThat(sq.repos.tip("main")).isEqualTo(tip);
  }

  @Test
  void everyStageRedeliveredTwiceChangesNothing() {
    AtomicReference<Ledger> ref = new AtomicReference<>(ledger);
    start(Faults.redeliverTwice(ref));
    String a = sq.repos.commit("a", "main", "a", files("src/app.txt", "ONE\n" + APP.substring(4)));
    String b = sq.repos.commit("b", "main", "b", files("src/app.txt", APP.replace("eight", "EIGHT")));
    String c = sq.repos.commit("c", "main", "c", files("docs/guide.txt", "c\n"));

    String ra = sq.land(changeUri("a", a));
    String rb = sq.land(changeUri("b", b));
    String rc = sq.land(changeUri("c", c));

    for (String id : new String[] {ra, rb, rc}) {
      assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.LANDED);
      assertThat(sq.history(id)).containsExactly(State.STARTED, State.VALIDATED, State.BATCHED, State.LANDED);
      // the merge, redelivered twice, was pushed once: one completed claim, read back into the history
      assertThat(sq.effects(id)).filteredOn(e -> e.startsWith("merge of batch ")).hasSize(1)
          .allMatch(e -> e.endsWith(" pushed"));
    }
    assertThat(sq.repos.count("main")).isEqualTo(4);
    assertThat(GitCli.run(sq.repos.origin(), "log", "--format=%s", "main").lines().sorted().toList())
        .containsExactly("a", "b", "c", "initial");
    assertThat(batches()).isEqualTo(3);
  }

  @ParameterizedTest
  @CsvSource({"validate, app/1", "checksignal, app/1", "batch, app/1", "speculate, app/b1", "merge, app/b1",
      "mergesignal, app/b1", "conclude, app/b1"})
  void aDeadLetterAtAnyStageDrivesItsRequestTerminal(String stage, String entity) {
    start(Faults.poison(stage, entity));
    String head = sq.repos.commit("feature", "main", "feature", files("docs/guide.txt", "x\n"));

    String id = sq.land(changeUri("feature", head));

    var info = sq.awaitTerminal(id);
    assertThat(id).isEqualTo("app/1");
    if (stage.equals("mergesignal") || stage.equals("conclude")) {
      assertThat(info.getState()).as("the merge happened: the dead letter carries or finds its outcome")
          .isEqualTo(State.LANDED);
      assertThat(sq.repos.tip("main")).isEqualTo(head);
    } else {
      assertThat(info.getState()).isEqualTo(State.ERROR);
      assertThat(info.getReason()).contains("gave up", "injected failure in " + stage);
      assertThat(sq.repos.tip("main")).isNotEqualTo(head);
    }
    assertThat(sq.history(id).stream().filter(s -> s == info.getState())).hasSize(1);
  }

  @Test
  void anErrorInTheBuildLoopIsLoggedAndTheLoopBuildsAgain() {
    // the build loop's ledger calls (lease, complete) run their transactions on the ledger's group-commit
    // threads, whose answer (here an Error) is handed back to the loop; nothing else in this harness
    // commits through them
    clock.failOnceOn("ledger-group-commit", new OutOfMemoryError("injected into the build loop"));
    sq = new SubmitQueueHarness(tmp, ledger, StageDecorator.NONE, 4, SubmitQueueConfig.ConflictAnalyzer.PATHS, 1);
    await().atMost(Duration.ofSeconds(30)).until(() -> sq.streams.supervisor().failures("build-worker") == 1);
    assertThat(clock.faultPending()).isFalse();

    // the only build loop met the Error; a landed change proves it runs again
    String head = sq.repos.commit("feature", "main", "feature", files("docs/guide.txt", "x\n"));
    String id = sq.land(changeUri("feature", head));
    assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.LANDED);
    assertThat(sq.streams.supervisor().healthy()).isTrue();
  }
}
