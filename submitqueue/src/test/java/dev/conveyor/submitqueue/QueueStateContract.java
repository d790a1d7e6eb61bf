package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ErrorStatus;
import dev.conveyor.api.base.Change;
import dev.conveyor.api.submitqueue.GetQueueStateRequest;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.api.submitqueue.LandResponse;
import dev.conveyor.api.submitqueue.QueueState;
import dev.conveyor.api.submitqueue.QueueStateInfo;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.api.submitqueue.SetQueueStateRequest;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Pause, drain and resume a merge queue, end to end through the QueueControl service. */
public abstract class QueueStateContract extends LedgerTestBase {
  @TempDir
  Path tmp;

  SubmitQueueHarness sq;

  @BeforeEach
  void start() {
    sq = new SubmitQueueHarness(tmp, ledger, StageDecorator.NONE, 4, SubmitQueueConfig.ConflictAnalyzer.PATHS);
  }

  @AfterEach
  void stop() {
    sq.close();
  }

  private QueueStateInfo set(QueueState state, String reason) {
    return sq.control.setQueueState(SetQueueStateRequest.newBuilder().setQueue("app").setState(state)
        .setReason(reason).setChangedBy("ana@ops").build());
  }

  private LandResponse land(String branch, String file) {
    String head = sq.repos.commit(branch, "main", branch, files(file, branch + "\n"));
    return sq.gateway.land(LandRequest.newBuilder().setQueue("app")
        .setChange(Change.newBuilder().addUris(changeUri(branch, head))).build());
  }

  private boolean merged(String file) {
    return GitCli.run(sq.repos.origin(), "ls-tree", "--name-only", "main").contains(file);
  }

  @Test
  void aPausedQueueAcceptsLandsButBuildsAndMergesNothingUntilResumed() {
    QueueStateInfo paused = set(QueueState.QUEUE_PAUSED, "incident 42");
    assertThat(paused.getState()).isEqualTo(QueueState.QUEUE_PAUSED);
    assertThat(paused.getChangedBy()).isEqualTo("ana@ops");
    LandResponse r = land("a", "a.txt");
    assertThat(r.getNotice()).contains("paused", "ana@ops", "incident 42");
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> sq.state(r.getRequestId()) == State.BATCHED);
    Awaitility.await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(5)).until(() -> sq.buildsMade() == 0);
    QueueStateInfo resumed = set(QueueState.QUEUE_ACTIVE, "fixed");
    assertThat(resumed.getHistoryList()).extracting(c -> c.getState())
        .containsExactly(QueueState.QUEUE_ACTIVE, QueueState.QUEUE_PAUSED);
    assertThat(sq.awaitTerminal(r.getRequestId()).getState()).isEqualTo(State.LANDED);
    assertThat(merged("a.txt")).isTrue();
    assertThat(land("b", "b.txt").getNotice()).isEmpty();
  }

  @Test
  void pausingWhileABuildRunsLetsItFinishButMergesNothing() throws Exception {
    sq.holdBuilds();
    LandResponse r = land("a", "a.txt");
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> sq.runningBuilds() == 1);
    set(QueueState.QUEUE_PAUSED, "freeze");
    sq.releaseBuilds();
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> ledger.read(tx -> tx.queryLong(
        "SELECT COUNT(*) FROM sq_paths WHERE state = 'PASSED'")) == 1);
    Awaitility.await().during(Duration.ofMillis(800)).atMost(Duration.ofSeconds(5))
        .until(() -> sq.state(r.getRequestId()) == State.BATCHED && !merged("a.txt"));
    set(QueueState.QUEUE_ACTIVE, "");
    assertThat(sq.awaitTerminal(r.getRequestId()).getState()).isEqualTo(State.LANDED);
    assertThat(sq.buildsMade()).isEqualTo(1); // its build was not run again
  }

  @Test
  void aDrainingQueueRefusesLandsFinishesWhatIsActiveAndEndsWithNothingActive() throws Exception {
    sq.holdBuilds();
    LandResponse first = land("a", "a.txt");
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> sq.runningBuilds() == 1);
    set(QueueState.QUEUE_DRAINING, "moving to the new repository");
    assertThatThrownBy(() -> land("b", "b.txt")).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
      assertThat(ErrorStatus.reasonOf(e)).isEqualTo("QUEUE_DRAINING");
      assertThat(e.getStatus().getDescription()).contains("draining", "moving to the new repository",
          "conveyor queue resume app");
    });
    sq.releaseBuilds();
    assertThat(sq.awaitTerminal(first.getRequestId()).getState()).isEqualTo(State.LANDED);
    QueueStateInfo drained = sq.control.getQueueState(GetQueueStateRequest.newBuilder().setQueue("app").build());
    assertThat(drained.getState()).isEqualTo(QueueState.QUEUE_DRAINING);
    assertThat(drained.getActiveRequests()).isZero();
    assertThat(drained.getRunningBuilds()).isZero();
    set(QueueState.QUEUE_ACTIVE, "moved");
    assertThat(sq.awaitTerminal(land("c", "c.txt").getRequestId()).getState()).isEqualTo(State.LANDED);
  }

  @Test
  void badRequestsAreRefusedNamingWhatIsWrong() {
    assertThatThrownBy(() -> sq.control.setQueueState(SetQueueStateRequest.newBuilder().setQueue("nope")
        .setState(QueueState.QUEUE_PAUSED).setChangedBy("x").build()))
        .satisfies(e -> assertThat(ErrorStatus.reasonOf(e)).isEqualTo("UNKNOWN_QUEUE"));
    assertThatThrownBy(() -> sq.control.setQueueState(SetQueueStateRequest.newBuilder().setQueue("app")
        .setState(QueueState.QUEUE_PAUSED).build()))
        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getDescription()).contains("changed_by"));
    assertThatThrownBy(() -> sq.control.setQueueState(SetQueueStateRequest.newBuilder().setQueue("app")
        .setChangedBy("x").build()))
        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getDescription()).contains("state must be"));
    assertThatThrownBy(() -> sq.control.setQueueState(SetQueueStateRequest.newBuilder().setQueue("app")
        .setState(QueueState.QUEUE_PAUSED).setChangedBy("x").setReason("r".repeat(1025)).build()))
        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getDescription()).contains("reason"));
    assertThat(sq.control.getQueueState(GetQueueStateRequest.newBuilder().setQueue("app").build()).getState())
        .isEqualTo(QueueState.QUEUE_ACTIVE);
  }
}
