package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.submitqueue.BatchInfo;
import dev.conveyor.api.submitqueue.CancelRequest;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Batches of several requests, bisection of a failed batch and a member's cancel, end to end. */
public abstract class BatchingContract extends LedgerTestBase {
  @TempDir
  Path tmp;

  SubmitQueueHarness sq;

  void start(int batchSize, Duration batchWait) {
    start(batchSize, batchWait, 0);
  }

  void start(int batchSize, Duration batchWait, int buildRetries) {
    sq = new SubmitQueueHarness(tmp, ledger, StageDecorator.NONE, 4, SubmitQueueConfig.ConflictAnalyzer.PATHS, 4,
        q -> q.withBatching(batchSize, batchWait).withBuildRetries(buildRetries));
  }

  @AfterEach
  void stop() {
    if (sq != null) {
      sq.close();
    }
  }

  /** {@code n} changes, each adding a file of its own (a BROKEN-named file for those in {@code broken}). */
  private List<String> landIndependent(int n, Set<Integer> broken) {
    List<String> uris = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      String file = broken.contains(i) ? "BROKEN-" + i : "feature-" + i + ".txt";
      uris.add(changeUri("c" + i, sq.repos.commit("c" + i, "main", "change " + i, files(file, "change " + i + "\n"))));
    }
    List<String> ids = new ArrayList<>();
    for (String uri : uris) {
      ids.add(sq.land(uri));
    }
    return ids;
  }

  @Test
  void twentyIndependentChangesInBatchesOfFiveLandInAtMostSixBuilds() {
    start(5, Duration.ofSeconds(3));
    List<String> ids = landIndependent(20, Set.of());
    for (String id : ids) {
      assertThat(sq.awaitTerminal(id).getState()).as(id).isEqualTo(State.LANDED);
    }
    assertThat(sq.buildsMade()).isLessThanOrEqualTo(6);
    String tree = GitCli.run(sq.repos.origin(), "ls-tree", "--name-only", "main");
    for (int i = 0; i < 20; i++) {
      assertThat(tree).contains("feature-" + i + ".txt");
    }
    // members share their batch, and each request was batched once
    assertThat(sq.status(ids.get(0)).getBatch().getRequestIdsCount()).isGreaterThan(1);
    assertThat(sq.history(ids.get(0))).containsExactly(State.STARTED, State.VALIDATED, State.BATCHED, State.LANDED);
  }

  @Test
  void bisectionEndsExactlyTheBrokenChangesAndLandsEveryOther() {
    start(5, Duration.ofSeconds(3));
    Set<Integer> broken = Set.of(3, 12);
    List<String> ids = landIndependent(20, broken);
    for (int i = 0; i < ids.size(); i++) {
      RequestInfo end = sq.awaitTerminal(ids.get(i));
      if (broken.contains(i)) {
        assertThat(end.getState()).as(ids.get(i)).isEqualTo(State.ERROR);
        assertThat(end.getReason()).contains("build failed", "exited 3");
        assertThat(sq.status(ids.get(i)).getBatch().getRequestIdsList()).containsExactly(ids.get(i));
      } else {
        assertThat(end.getState()).as(ids.get(i) + ": " + end.getReason()).isEqualTo(State.LANDED);
      }
    }
    String tree = GitCli.run(sq.repos.origin(), "ls-tree", "--name-only", "main");
    assertThat(tree).doesNotContain("BROKEN");
    // main never held a broken change: no commit on it ever added one
    assertThat(GitCli.run(sq.repos.origin(), "log", "--name-only", "--format=", "main")).doesNotContain("BROKEN");
    long split = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM sq_batches WHERE state = 'SPLIT'"));
    assertThat(split).isPositive();
  }

  @Test
  void aChangeThatConflictsGoesAloneAndEndsAsAConflictWhileTheOthersLandWithoutBisection() {
    start(4, Duration.ofSeconds(2));
    // c0 and c1 both add shared.txt: whichever lands second conflicts; c2 and c3 touch files of their own
    String c0 = changeUri("c0", sq.repos.commit("c0", "main", "first", files("shared.txt", "first\n")));
    String c1 = changeUri("c1", sq.repos.commit("c1", "main", "second", files("shared.txt", "second\n")));
    String c2 = changeUri("c2", sq.repos.commit("c2", "main", "two", files("two.txt", "2\n")));
    String c3 = changeUri("c3", sq.repos.commit("c3", "main", "three", files("three.txt", "3\n")));
    String first = sq.land(c0);
    String second = sq.land(c1);
    String two = sq.land(c2);
    String three = sq.land(c3);
    List<String> ids = List.of(first, second, two, three);
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> ids.stream().allMatch(id -> sq.state(id) != State.STARTED && sq.state(id) != State.VALIDATED));
    clock.advance(Duration.ofSeconds(3)); // the ledger's clock stands still: end the last batch's wait
    assertThat(sq.awaitTerminal(first).getState()).isEqualTo(State.LANDED);
    RequestInfo conflicted = sq.awaitTerminal(second);
    assertThat(conflicted.getState()).isEqualTo(State.ERROR);
    assertThat(conflicted.getReason()).startsWith("conflict").contains("shared.txt").doesNotContain("build failed");
    assertThat(sq.awaitTerminal(two).getState()).isEqualTo(State.LANDED);
    assertThat(sq.awaitTerminal(three).getState()).isEqualTo(State.LANDED);
    // c1 touches what c0's batch touches: it went alone, and c2 and c3 still shared c0's batch; its
    // conflict ended it alone, so nobody was bisected
    assertThat(sq.status(second).getBatch().getRequestIdsList()).containsExactly(second);
    assertThat(sq.status(three).getBatch().getRequestIdsList()).contains(three).hasSizeGreaterThan(1);
    assertThat(sq.pipeline.context().planner().bisections()).isZero();
    assertThat(GitCli.run(sq.repos.origin(), "show", "main:shared.txt")).startsWith("first");
    // every stage counts what it did (after its commit): each request was batched once, two batches concluded
    var outcomes = sq.pipeline.outcomes();
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10)).untilAsserted(() -> {
      assertThat(outcomes.get("batch", dev.conveyor.submitqueue.pipeline.StageOutcomes.Kind.ADVANCED)).isEqualTo(4);
      assertThat(outcomes.get("conclude", dev.conveyor.submitqueue.pipeline.StageOutcomes.Kind.ADVANCED))
          .isGreaterThanOrEqualTo(2);
    });
    assertThat(outcomes.get("speculate", dev.conveyor.submitqueue.pipeline.StageOutcomes.Kind.RECEIVED))
        .isGreaterThanOrEqualTo(outcomes.get("speculate", dev.conveyor.submitqueue.pipeline.StageOutcomes.Kind.ADVANCED));
    assertThat(outcomes.get("batch", dev.conveyor.submitqueue.pipeline.StageOutcomes.Kind.DEAD_LETTERED)).isZero();
  }

  @Test
  void cancellingOneMemberLetsTheOthersGoOnInABatchOfTheirOwn() throws Exception {
    start(3, Duration.ofSeconds(30));
    sq.holdBuilds();
    List<String> ids = landIndependent(3, Set.of()); // full at three: planned and built at once
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> sq.status(ids.get(2)).getBatch().getRequestIdsCount() == 3 && sq.runningBuilds() > 0);
    String batch = sq.status(ids.get(0)).getBatch().getBatchId();
    sq.gateway.cancel(CancelRequest.newBuilder().setRequestId(ids.get(1)).build());
    assertThat(sq.awaitTerminal(ids.get(1)).getState()).isEqualTo(State.CANCELLED);
    sq.releaseBuilds();
    assertThat(sq.awaitTerminal(ids.get(0)).getState()).isEqualTo(State.LANDED);
    assertThat(sq.awaitTerminal(ids.get(2)).getState()).isEqualTo(State.LANDED);
    assertThat(sq.status(ids.get(0)).getBatch().getBatchId()).isEqualTo(batch + ".1");
    String tree = GitCli.run(sq.repos.origin(), "ls-tree", "--name-only", "main");
    assertThat(tree).contains("feature-0.txt", "feature-2.txt").doesNotContain("feature-1.txt");
    var first = ledger.transact(tx -> tx.queryOne("SELECT state FROM sq_batches WHERE batch_id = ?",
        rs -> rs.getString(1), batch).orElseThrow());
    assertThat(first).isEqualTo(BatchInfo.State.SPLIT.name());
  }

  @Test
  void aBatchWaitsToFillUntilItsBatchWaitHasPassed() {
    start(5, Duration.ofSeconds(10));
    List<String> ids = landIndependent(2, Set.of());
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> ids.stream().allMatch(id -> sq.state(id) == State.BATCHED));
    assertThat(sq.status(ids.get(0)).getBatch().getRequestIdsList()).containsExactlyElementsOf(
        sq.status(ids.get(1)).getBatch().getRequestIdsList());
    // the ledger's clock stands still: the batch keeps waiting for members, and nothing is built
    org.awaitility.Awaitility.await().during(Duration.ofMillis(700)).atMost(Duration.ofSeconds(5))
        .until(() -> sq.buildsMade() == 0);
    clock.advance(Duration.ofSeconds(11));
    assertThat(sq.awaitTerminal(ids.get(0)).getState()).isEqualTo(State.LANDED);
    assertThat(sq.awaitTerminal(ids.get(1)).getState()).isEqualTo(State.LANDED);
    assertThat(sq.buildsMade()).isEqualTo(1);
  }

  @Test
  void withBuildRetriesAFlakyBuildLandsItsChangesAndItsLogShowsEachAttempt() {
    start(5, Duration.ofSeconds(10), 1);
    List<String> ids = landIndependent(3, Set.of());
    String flaky = sq.land(changeUri("flaky", sq.repos.commit("flaky", "main", "flaky", files("FLAKY", "1\n"))));
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30))
        .until(() -> sq.state(flaky) == State.BATCHED && ids.stream().allMatch(id -> sq.state(id) == State.BATCHED));
    clock.advance(Duration.ofSeconds(11));
    for (String id : List.of(ids.get(0), ids.get(1), ids.get(2), flaky)) {
      assertThat(sq.awaitTerminal(id).getState()).as(id).isEqualTo(State.LANDED);
    }
    assertThat(sq.buildsMade()).isEqualTo(1); // retried inside its build, not bisected
    String buildId = sq.status(flaky).getBuilds(0).getBuildId();
    String log = sq.gateway.buildLog(dev.conveyor.api.submitqueue.BuildLogRequest.newBuilder().setBuildId(buildId)
        .build()).getText();
    assertThat(log).contains("flaky: the first attempt fails", "attempt 1 of 2 failed (the build command exited 4)");
  }

  @Test
  void withoutBuildRetriesTheSameFlakyFailureCounts() {
    start(1, Duration.ZERO, 0);
    String flaky = sq.land(changeUri("flaky", sq.repos.commit("flaky", "main", "flaky", files("FLAKY", "1\n"))));
    RequestInfo end = sq.awaitTerminal(flaky);
    assertThat(end.getState()).isEqualTo(State.ERROR);
    assertThat(end.getReason()).contains("exited 4").doesNotContain("attempts");
  }
}
