package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ErrorStatus;
import dev.conveyor.api.base.Change;
import dev.conveyor.api.submitqueue.BuildLogRequest;
import dev.conveyor.api.submitqueue.CancelRequest;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Through the gateway, real repositories and real builds: the request lifecycle end to end. */
public abstract class EndToEndContract extends LedgerTestBase {
  @TempDir
  Path tmp;

  SubmitQueueHarness sq;

  SubmitQueueHarness start(StageDecorator decorator, int budget) {
    sq = new SubmitQueueHarness(tmp, ledger, decorator, budget, SubmitQueueConfig.ConflictAnalyzer.PATHS);
    return sq;
  }

  SubmitQueueHarness start() {
    return start(StageDecorator.NONE, 4);
  }

  @AfterEach
  void stop() {
    if (sq != null) {
      sq.close();
    }
  }

  private static final String APP = "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n";

  @Test
  void happyPathLandsWithEachStatusOnceInHistory() {
    var keys = new java.util.concurrent.ConcurrentHashMap<String, java.util.Set<String>>();
    start((stage, handler) -> delivery -> {
      keys.computeIfAbsent(stage, k -> java.util.concurrent.ConcurrentHashMap.newKeySet())
          .add(delivery.message().partitionKey());
      return handler.handle(delivery);
    }, 4);
    String head = sq.repos.commit("feature", "main", "feature", files("docs/guide.txt", "better guide\n"));

    String id = sq.land(changeUri("feature", head));

    assertThat(id).isEqualTo("app/1");
    assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.LANDED);
    assertThat(sq.history(id)).containsExactly(State.STARTED, State.VALIDATED, State.BATCHED, State.LANDED);
    assertThat(sq.repos.tip("main")).isEqualTo(head);
    assertThat(sq.status(id).getBatch().getState().name()).isEqualTo("SUCCEEDED");
    // validation concerns this request alone: keyed by it, so a burst of lands is validated and checked in
    // parallel; the queue's other hand-offs are keyed by the queue, which keeps its planning serial
    assertThat(keys.get("validate")).containsOnly(id);
    assertThat(keys.get("start")).containsOnly("app");
    assertThat(keys.get("checksignal")).containsOnly("app");
    assertThat(keys.get("batch")).containsOnly("app");
  }

  @Test
  void aBurstOfEventsIsPlannedByFewPassesAndEveryChangeStillLands() throws Exception {
    var released = new java.util.concurrent.CountDownLatch(1);
    // planning waits until every request is batched, so their events queue up behind the first one
    start((stage, handler) -> !stage.equals("speculate") ? handler : delivery -> {
      released.await(60, java.util.concurrent.TimeUnit.SECONDS);
      return handler.handle(delivery);
    }, 4);
    List<String> ids = new java.util.ArrayList<>();
    for (int i = 0; i < 6; i++) {
      String head = sq.repos.commit("f" + i, "main", "f" + i, files("docs/f" + i + ".txt", i + "\n"));
      ids.add(sq.land(changeUri("f" + i, head)));
    }
    ids.forEach(id -> sq.awaitState(id, State.BATCHED));
    released.countDown();

    for (String id : ids) {
      assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.LANDED);
    }
    // the first pass saw all six batches: the five other "created" events needed no pass of their own
    assertThat(sq.pipeline.speculation().covered()).isGreaterThanOrEqualTo(5);
    assertThat(sq.repos.show("main", "docs/f5.txt")).isEqualTo("5");
  }

  @Test
  void gatewayRefusesBadInputPrecisely() throws Exception {
    // builds wait, so the first request is still live when the same change is landed again
    start();
    String head = sq.repos.commit("feature", "main", "feature", files("docs/guide.txt", "x\n"));
    sq.holdBuilds();

    assertThatThrownBy(() -> sq.gateway.land(LandRequest.newBuilder().setQueue("nope")
        .setChange(Change.newBuilder().addUris(changeUri("feature", head))).build()))
        .satisfies(e -> assertThat(ErrorStatus.reasonOf(e)).isEqualTo("UNKNOWN_QUEUE"))
        .hasMessageContaining("NOT_FOUND").hasMessageContaining("unknown queue 'nope'");
    assertThatThrownBy(() -> sq.land("feature@" + head))
        .satisfies(e -> assertThat(ErrorStatus.reasonOf(e)).isEqualTo("INVALID_CHANGE_URI"))
        .hasMessageContaining("INVALID_ARGUMENT");
    String first = sq.land(changeUri("feature", head));
    assertThatThrownBy(() -> sq.land(changeUri("feature", head)))
        .isInstanceOf(StatusRuntimeException.class)
        .satisfies(e -> assertThat(ErrorStatus.infoOf(e).getMetadataMap()).containsEntry("holder", first))
        .hasMessageContaining("ALREADY_EXISTS");
    sq.gateway.cancel(CancelRequest.newBuilder().setRequestId(first).build());
    assertThat(sq.awaitTerminal(first).getState()).isEqualTo(State.CANCELLED);
    String second = sq.land(changeUri("feature", head));
    assertThat(second).isEqualTo("app/2");
  }

  @Test
  void checkFailureEndsInErrorWithRunwaysReasonAndIsNotDeadLettered() {
    start();
    String head = sq.repos.commit("clash", "main", "clash", files("src/app.txt", "uno\n" + APP.substring(4)));
    sq.repos.commit("main", "main", "main edits", files("src/app.txt", "eins\n" + APP.substring(4)));

    String id = sq.land(changeUri("clash", head));

    var info = sq.awaitTerminal(id);
    assertThat(info.getState()).isEqualTo(State.ERROR);
    assertThat(info.getReason()).contains("does not apply", "src/app.txt");
    assertThat(sq.streams.deadLetters().list("runway-check-signal", 0, 10)).isEmpty();
  }

  @Test
  void twoChangesEditingTheSameLinesFirstLandsSecondFails() {
    start();
    String a = sq.repos.commit("a", "main", "a", files("src/app.txt", "ONE-A\n" + APP.substring(4)));
    String b = sq.repos.commit("b", "main", "b", files("src/app.txt", "ONE-B\n" + APP.substring(4)));

    String ra = sq.land(changeUri("a", a));
    String rb = sq.land(changeUri("b", b));

    assertThat(sq.awaitTerminal(ra).getState()).isEqualTo(State.LANDED);
    var second = sq.awaitTerminal(rb);
    assertThat(second.getState()).isEqualTo(State.ERROR);
    assertThat(sq.status(rb).getBatch().getDependsOnList()).containsExactly(sq.status(ra).getRequest().getBatchId());
    assertThat(sq.repos.show("main", "src/app.txt")).startsWith("ONE-A");
    assertThat(sq.repos.count("main")).isEqualTo(2);
  }

  @Test
  void aStackOfThreeLandsInOrderInOneRefUpdate() {
    start();
    String a = sq.repos.commit("stack", "main", "s1", files("docs/one.txt", "1\n"));
    String b = sq.repos.commit("stack", "s2", files("docs/two.txt", "2\n"));
    String c = sq.repos.commit("stack", "s3", files("docs/three.txt", "3\n"));
    int updates = sq.repos.mainUpdates();

    String id = sq.land(changeUri("stack", a), changeUri("stack", b), changeUri("stack", c));

    assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.LANDED);
    assertThat(sq.repos.mainUpdates()).isEqualTo(updates + 1);
    assertThat(GitCli.run(sq.repos.origin(), "log", "--format=%s", "-3", "main")).isEqualTo("s3\ns2\ns1");
  }

  @Test
  void resubmittingALandedChangeIsRefusedAsStale() {
    start();
    String head = sq.repos.commit("feature", "main", "feature", files("docs/guide.txt", "better\n"));
    assertThat(sq.awaitTerminal(sq.land(changeUri("feature", head))).getState()).isEqualTo(State.LANDED);

    var again = sq.awaitTerminal(sq.land(changeUri("feature", head)));

    assertThat(again.getState()).isEqualTo(State.ERROR);
    assertThat(again.getReason()).contains("stale");
  }

  @Test
  void aBrokenChangeNeverReachesTheTargetAndDoesNotBlockOthers() {
    start();
    String broken = sq.repos.commit("broken", "main", "broken", files("src/app.txt", "ONE\n" + APP.substring(4),
        "BROKEN", "yes\n"));
    String dependent = sq.repos.commit("dependent", "main", "dependent", files("src/app.txt",
        APP.replace("eight", "EIGHT")));
    String independent = sq.repos.commit("independent", "main", "independent", files("docs/guide.txt", "new\n"));

    String rBroken = sq.land(changeUri("broken", broken));
    String rDependent = sq.land(changeUri("dependent", dependent));
    String rIndependent = sq.land(changeUri("independent", independent));

    var b = sq.awaitTerminal(rBroken);
    assertThat(b.getState()).isEqualTo(State.ERROR);
    assertThat(b.getReason()).contains("build failed", "exited 3");
    assertThat(sq.awaitTerminal(rDependent).getState()).as("re-planned after its dependency failed")
        .isEqualTo(State.LANDED);
    assertThat(sq.awaitTerminal(rIndependent).getState()).isEqualTo(State.LANDED);
    assertThat(GitCli.run(sq.repos.origin(), "ls-tree", "--name-only", "main")).doesNotContain("BROKEN");
    assertThat(sq.repos.show("main", "src/app.txt")).contains("EIGHT").startsWith("one");
  }

  @Test
  void aFailedBuildsReasonCarriesNoOutputAndBuildLogServesItByPage() {
    start();
    String broken = sq.repos.commit("broken", "main", "broken", files("BROKEN", "yes\n"));
    String id = sq.land(changeUri("broken", broken));

    var r = sq.awaitTerminal(id);
    assertThat(r.getState()).isEqualTo(State.ERROR);
    var status = sq.status(id);
    assertThat(status.getBuildsList()).hasSize(1);
    var build = status.getBuilds(0);
    assertThat(build.getState()).isEqualTo("FAILED");
    assertThat(build.getAssumptions()).isEqualTo("no dependencies");
    String buildId = build.getBuildId();
    assertThat(r.getReason()).contains("build " + buildId + ": the build command exited 3",
        "conveyor build log " + buildId).doesNotContain("BROKEN file is present").doesNotContain("building");
    assertThat(build.getReason()).doesNotContain("BROKEN file is present");

    var log = sq.gateway.buildLog(BuildLogRequest.newBuilder().setBuildId(buildId).build());
    assertThat(log.getText()).contains("building", "BROKEN", "broken: a BROKEN file is present");
    assertThat(log.getFinished()).isTrue();
    assertThat(log.getOffset()).isZero();
    assertThat(log.getNextOffset()).isEqualTo(log.getTotal()).isEqualTo(log.getText().codePointCount(0,
        log.getText().length()));
    var second = sq.gateway.buildLog(BuildLogRequest.newBuilder().setBuildId(buildId).setOffset(3).setLimit(5).build());
    assertThat(second.getText()).isEqualTo(log.getText().substring(3, 8));
    assertThat(second.getNextOffset()).isEqualTo(8);

    assertThatThrownBy(() -> sq.gateway.buildLog(BuildLogRequest.newBuilder().setBuildId("").build()))
        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getCode())
            .isEqualTo(io.grpc.Status.Code.INVALID_ARGUMENT)).hasMessageContaining("build_id");
    assertThatThrownBy(() -> sq.gateway.buildLog(BuildLogRequest.newBuilder().setBuildId("x".repeat(513)).build()))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("build_id");
    assertThatThrownBy(() -> sq.gateway.buildLog(BuildLogRequest.newBuilder().setBuildId(buildId).setLimit(-1).build()))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("limit");
    assertThatThrownBy(() -> sq.gateway.buildLog(BuildLogRequest.newBuilder().setBuildId(buildId).setOffset(-5).build()))
        .hasMessageContaining("INVALID_ARGUMENT").hasMessageContaining("offset");
    assertThatThrownBy(() -> sq.gateway.buildLog(BuildLogRequest.newBuilder().setBuildId("nope").build()))
        .satisfies(e -> assertThat(ErrorStatus.reasonOf(e)).isEqualTo("BUILD_NOT_FOUND"))
        .hasMessageContaining("NOT_FOUND");
  }

  @Test
  void aDependentWaitsForItsDependencysMergeAndLandsAfterIt() throws Exception {
    start();
    String a = sq.repos.commit("a", "main", "a", files("src/app.txt", "ONE\n" + APP.substring(4)));
    String b = sq.repos.commit("b", "main", "b", files("src/app.txt", APP.replace("eight", "EIGHT")));

    String ra = sq.land(changeUri("a", a));
    String rb = sq.land(changeUri("b", b));

    assertThat(sq.awaitTerminal(rb).getState()).isEqualTo(State.LANDED);
    assertThat(sq.state(ra)).isEqualTo(State.LANDED);
    assertThat(GitCli.run(sq.repos.origin(), "log", "--format=%s", "-2", "main")).isEqualTo("b\na");
    assertThat(sq.repos.show("main", "src/app.txt")).startsWith("ONE").contains("EIGHT");
  }

  List<State> states(String id) {
    return sq.history(id);
  }

  @Test
  void aPriorityRequestLandedLastPreemptsARunningBuildAndLandsBeforeEarlierNormalOnes() throws Exception {
    start(StageDecorator.NONE, 1);
    sq.holdBuilds();
    String a = sq.land(changeUri("a", sq.repos.commit("a", "main", "change a", files("a.txt", "a\n"))));
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> sq.runningBuilds() == 1);
    String b = sq.land(changeUri("b", sq.repos.commit("b", "main", "change b", files("b.txt", "b\n"))));
    String c = sq.land(changeUri("c", sq.repos.commit("c", "main", "change c", files("c.txt", "c\n"))));
    String urgent = sq.gateway.land(LandRequest.newBuilder().setQueue("app").setPriority(10)
        .setChange(Change.newBuilder().addUris(changeUri("hotfix", sq.repos.commit("hotfix", "main", "change hotfix",
            files("hotfix.txt", "fix\n"))))).build()).getRequestId();
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
        .until(() -> List.of(b, c, urgent).stream().allMatch(id -> sq.state(id) == State.BATCHED));
    sq.releaseBuilds();
    for (String id : List.of(a, b, c, urgent)) {
      assertThat(sq.awaitTerminal(id).getState()).as(id).isEqualTo(State.LANDED);
    }
    // with one build at a time the hotfix took a's slot (a's build was stopped and run again later), then
    // the earlier normal ones went in order
    assertThat(GitCli.run(sq.repos.origin(), "log", "--reverse", "--format=%s", "main").lines()
        .filter(l -> l.startsWith("change ")).toList())
        .containsExactly("change hotfix", "change a", "change b", "change c");
    assertThat(sq.pipeline.context().planner().preemptions()).isEqualTo(1);
    assertThat(sq.status(urgent).getRequest().getPriority()).isEqualTo(10);
    assertThatThrownBy(() -> sq.gateway.land(LandRequest.newBuilder().setQueue("app").setPriority(101)
        .setChange(Change.newBuilder().addUris(changeUri("z", sq.repos.commit("z", "main", "z", files("z.txt",
            "z\n"))))).build()))
        .satisfies(e -> assertThat(((StatusRuntimeException) e).getStatus().getDescription()).contains("priority"));
  }

  @Test
  void ofTwoConflictingChangesTheFirstLandedIsTriedFirstEvenWhenItsCheckEndsLast() throws Exception {
    // app/3's validation waits (its partition only) until app/4 is batched; their validate partitions differ
    start((stage, handler) -> !stage.equals("validate") ? handler : delivery -> {
      if (delivery.message().partitionKey().equals("app/3")) {
        org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30)).until(() -> !List.of(
            State.STARTED, State.VALIDATED).contains(ledger.transact(tx -> dev.conveyor.submitqueue.request.Requests
            .find(tx, "app/4")).map(r -> r.state()).orElse(State.STARTED)));
      }
      return handler.handle(delivery);
    }, 4);
    sq.holdBuilds();
    assertThat(dev.conveyor.messagequeue.stream.Partitioner.partition("app/3", 2))
        .isNotEqualTo(dev.conveyor.messagequeue.stream.Partitioner.partition("app/4", 2));
    sq.land(changeUri("f1", sq.repos.commit("f1", "main", "filler 1", files("docs/one.txt", "1\n"))));
    sq.land(changeUri("f2", sq.repos.commit("f2", "main", "filler 2", files("docs/two.txt", "2\n"))));
    String first = sq.land(changeUri("first", sq.repos.commit("first", "main", "first", files("src/app.txt",
        APP.replace("one", "ONE")))));
    String second = sq.land(changeUri("second", sq.repos.commit("second", "main", "second", files("src/app.txt",
        APP.replace("one", "uno")))));
    assertThat(List.of(first, second)).containsExactly("app/3", "app/4");
    // builds wait until both are batched: app/4 (checked first) is not merging when app/3 comes
    org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(30))
        .until(() -> sq.state(first) == State.BATCHED && sq.state(second) == State.BATCHED);
    assertThat(sq.status(second).getBatch().getDependsOnList()).contains(sq.status(first).getBatch().getBatchId());
    sq.releaseBuilds();
    var firstEnd = sq.awaitTerminal(first);
    var secondEnd = sq.awaitTerminal(second);
    assertThat(firstEnd.getState()).as(firstEnd.getReason()).isEqualTo(State.LANDED);
    assertThat(secondEnd.getState()).isEqualTo(State.ERROR);
    assertThat(secondEnd.getReason()).contains("conflict");
    assertThat(GitCli.run(sq.repos.origin(), "show", "main:src/app.txt")).startsWith("ONE");
  }
}
