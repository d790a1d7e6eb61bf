package dev.conveyor.runway.merge;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.runway.testing.GitRepos;
import java.nio.file.Files;
import java.util.concurrent.atomic.AtomicInteger;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

class MergeBehaviourTest extends MergerTestBase {

  @Test
  void threeChangeStackLandsInOrderWithOneRefUpdate() throws Exception {
    repos.commit("main", "main moves on", files("README.md", "hello, world\n"));
    String a = repos.commit("a", "main~1", "a", files("src/app.txt", "ONE\ntwo\nthree\nfour\nfive\n"));
    String b = repos.commit("b", "a", "b", files("src/app.txt", "ONE\nTWO\nthree\nfour\nfive\n"));
    String c = repos.commit("c", "b", "c", files("src/app.txt", "ONE\nTWO\nTHREE\nfour\nfive\n"));
    int updates = repos.mainUpdates();
    int before = repos.count("main");

    var outcome = (MergeOutcome.Succeeded) merge(request("stack",
        step("s-a", Strategy.REBASE, changeUri("a", a)),
        step("s-b", Strategy.SQUASH_REBASE, changeUri("b", b)),
        step("s-c", Strategy.DEFAULT, changeUri("c", c))));

    assertThat(repos.mainUpdates()).isEqualTo(updates + 1);
    assertThat(repos.count("main")).isEqualTo(before + 3);
    assertThat(outcome.steps()).extracting(MergeOutcome.StepOutcome::stepId).containsExactly("s-a", "s-b", "s-c");
    assertThat(outcome.steps().get(2).outputs()).singleElement()
        .satisfies(o -> assertThat(o.name()).isEqualTo(repos.tip("main")));
    assertThat(GitCli.run(repos.origin(), "log", "--format=%s", "-3", "main")).isEqualTo("c\nb\na");
    assertThat(outcome.steps().get(0).outputs().get(0).name()).isEqualTo(repos.tip("main~2"));
    assertThat(repos.show("main", "src/app.txt")).isEqualTo("ONE\nTWO\nTHREE\nfour\nfive");
  }

  @Test
  void conflictNamesTheStepAndPathsAndLeavesTheTargetUntouched() throws Exception {
    String ok = repos.commit("ok", "main", "fine", files("src/notes.txt", "n\n"));
    repos.commit("main", "main edits lib", files("src/lib.txt", "ALPHA\nbeta\ngamma\n", "src/app.txt", "1\n"));
    String clash = repos.commit("clash", "main~1", "clash", files("src/lib.txt", "alpha!\nbeta\ngamma\n",
        "src/app.txt", "uno\n"));
    String tip = repos.tip("main");
    int updates = repos.mainUpdates();

    MergeOutcome outcome = merge(request("r", step("s-ok", Strategy.REBASE, changeUri("ok", ok)),
        step("s-clash", Strategy.REBASE, changeUri("clash", clash))));

    assertThat(outcome).isInstanceOf(MergeOutcome.Failed.class);
    var failed = (MergeOutcome.Failed) outcome;
    assertThat(failed.stepId()).isEqualTo("s-clash");
    assertThat(failed.paths()).containsExactly("src/app.txt", "src/lib.txt");
    assertThat(failed.reason()).contains("step 's-clash'", "conflict", "src/app.txt, src/lib.txt");
    assertThat(repos.tip("main")).isEqualTo(tip);
    assertThat(repos.mainUpdates()).isEqualTo(updates);
  }

  @Test
  void targetMovedBeforePushIsRetriedOnTheNewTip() throws Exception {
    String head = repos.commit("feature", "main", "feature", files("src/app.txt", "ONE\ntwo\nthree\nfour\nfive\n"));
    AtomicInteger attempts = new AtomicInteger();
    gate = (queue, expected, newTip, attempt) -> {
      if (attempts.incrementAndGet() == 1) {
        repos.commit("main", "main", "racing commit", files("README.md", "raced\n"));
      }
    };

    var outcome = (MergeOutcome.Succeeded) merge(request("r", step("s", Strategy.REBASE, changeUri("feature", head))));

    assertThat(outcome.pushAttempts()).isEqualTo(2);
    assertThat(repos.show("main", "README.md")).isEqualTo("raced");
    assertThat(repos.show("main", "src/app.txt")).startsWith("ONE");
    assertThat(GitCli.run(repos.origin(), "log", "--format=%s", "-2", "main")).isEqualTo("feature\nracing commit");
  }

  @Test
  void targetMovedToSomethingThatConflictsFailsWithAClearReason() throws Exception {
    String head = repos.commit("feature", "main", "feature", files("src/app.txt", "ONE\n"));
    gate = (queue, expected, newTip, attempt) -> repos.commit("main", "main", "racing commit",
        files("src/app.txt", "uno\n"));
    String[] racedTip = new String[1];
    PushGate racing = gate;
    gate = (queue, expected, newTip, attempt) -> {
      racing.beforePush(queue, expected, newTip, attempt);
      racedTip[0] = repos.tip("main");
    };

    var outcome = (MergeOutcome.Failed) merge(request("r", step("s", Strategy.REBASE, changeUri("feature", head))));

    assertThat(outcome.stepId()).isEqualTo("s");
    assertThat(outcome.reason()).contains("main moved from", "before the push", "conflict");
    assertThat(outcome.paths()).containsExactly("src/app.txt");
    assertThat(repos.tip("main")).isEqualTo(racedTip[0]);
  }

  @Test
  void targetThatKeepsMovingGivesUpAfterTheConfiguredAttempts() throws Exception {
    String head = repos.commit("feature", "main", "feature", files("src/notes.txt", "n\n"));
    AtomicInteger n = new AtomicInteger();
    gate = (queue, expected, newTip, attempt) -> repos.commit("main", "main", "race " + n.incrementAndGet(),
        files("README.md", "race " + n.get() + "\n"));

    var outcome = (MergeOutcome.Failed) merge(request("r", step("s", Strategy.REBASE, changeUri("feature", head))));

    assertThat(n.get()).isEqualTo(3);
    assertThat(outcome.reason()).contains("moved during each of 3 push attempts");
    assertThat(GitCli.run(repos.origin(), "log", "--format=%s", "-1", "main")).isEqualTo("race 3");
  }

  @ParameterizedTest
  @EnumSource(value = Strategy.class, names = {"REBASE", "SQUASH_REBASE", "MERGE", "PROMOTE"})
  void redeliveryOfALandedMergeSucceedsWithoutASecondCommit(Strategy strategy) throws Exception {
    String base = strategy == Strategy.PROMOTE ? "main" : "main~1";
    if (strategy != Strategy.PROMOTE) {
      repos.commit("main", "main moves on", files("README.md", "hello, world\n"));
    }
    String a = repos.commit("a", base, "a1", files("src/app.txt", "ONE\ntwo\nthree\nfour\nfive\n"));
    a = repos.commit("a", "a2", files("src/app.txt", "ONE!\ntwo\nthree\nfour\nfive\n"));
    var request = request("r", step("s", strategy, changeUri("a", a)));
    merge(request);
    String tip = repos.tip("main");
    int count = repos.count("main");

    var again = (MergeOutcome.Succeeded) merge(request);

    assertThat(again.pushed()).isFalse();
    assertThat(again.steps()).singleElement().satisfies(s -> {
      assertThat(s.outputs()).isEmpty();
      assertThat(s.note()).isEqualTo("already present");
    });
    assertThat(repos.tip("main")).isEqualTo(tip);
    assertThat(repos.count("main")).isEqualTo(count);
  }

  @Test
  void redeliveredStackIsRecognisedAfterTheTargetMovedOn() throws Exception {
    repos.commit("main", "main moves on", files("README.md", "hello, world\n"));
    String a = repos.commit("a", "main~1", "a", files("src/app.txt", "ONE\ntwo\nthree\nfour\nfive\n"));
    String b = repos.commit("b", "a", "b", files("src/app.txt", "ONE, again\ntwo\nthree\nfour\nfive\n"));
    var request = request("r", step("s-a", Strategy.REBASE, changeUri("a", a)),
        step("s-b", Strategy.REBASE, changeUri("b", b)));
    merge(request);
    repos.syncMain();
    repos.commit("main", "later work", files("src/lib.txt", "later\n"));
    int count = repos.count("main");

    var again = (MergeOutcome.Succeeded) merge(request);

    assertThat(again.pushed()).isFalse();
    assertThat(repos.count("main")).isEqualTo(count);
  }

  @Test
  void dryRunNeverChangesTheRemoteAndLeavesTheCacheReady() throws Exception {
    String ok = repos.commit("ok", "main", "fine", files("src/notes.txt", "n\n"));
    repos.commit("main", "main edits app", files("src/app.txt", "1\n"));
    String clash = repos.commit("clash", "main~1", "clash", files("src/app.txt", "uno\n"));
    String tip = repos.tip("main");
    int updates = repos.mainUpdates();

    var checked = (MergeOutcome.Succeeded) check(request("c1", step("s", Strategy.REBASE, changeUri("ok", ok))));
    var conflicted = (MergeOutcome.Failed) check(request("c2", step("s", Strategy.REBASE, changeUri("clash", clash))));

    assertThat(checked.pushed()).isFalse();
    assertThat(checked.steps().get(0).outputs()).isEmpty();
    assertThat(checked.newTip().name()).isNotEqualTo(tip);
    assertThat(conflicted.paths()).containsExactly("src/app.txt");
    assertThat(repos.tip("main")).isEqualTo(tip);
    assertThat(repos.mainUpdates()).isEqualTo(updates);
    var cache = tmp.resolve("cache").resolve("app.git");
    assertThat(cache.resolve("index")).doesNotExist();
    assertThat(GitCli.run(cache, "for-each-ref", "--format=%(refname)").split("\n"))
        .allSatisfy(ref -> assertThat(ref).startsWith("refs/runway/"));

    var landed = (MergeOutcome.Succeeded) merge(request("m1", step("s", Strategy.REBASE, changeUri("ok", ok))));
    assertThat(landed.newTip()).isEqualTo(ObjectId.fromString(repos.tip("main")));
    assertThat(landed.newTip()).isEqualTo(checked.newTip());
  }

  @Test
  void checksAndChangedPathsDoNotWaitForAMergeOfTheSameQueue() throws Exception {
    String landing = repos.commit("landing", "main", "landing", files("src/notes.txt", "n\n"));
    String other = repos.commit("other", "main", "other", files("src/other.txt", "o\n"));
    var atPush = new java.util.concurrent.CountDownLatch(1);
    var release = new java.util.concurrent.CountDownLatch(1);
    gate = (queue, expected, newTip, attempt) -> {
      atPush.countDown();
      try {
        release.await();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    };
    var merging = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
      try {
        return merge(request("m", step("s", Strategy.REBASE, changeUri("landing", landing))));
      } catch (java.io.IOException e) {
        throw new java.io.UncheckedIOException(e);
      }
    });
    try {
      assertThat(atPush.await(30, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      // the merge holds the queue, stopped before its push: a check and a path query still finish
      var checked = java.util.concurrent.CompletableFuture.supplyAsync(() -> {
        try {
          return check(request("c", step("s", Strategy.REBASE, changeUri("other", other))));
        } catch (java.io.IOException e) {
          throw new java.io.UncheckedIOException(e);
        }
      });
      assertThat(checked.get(30, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(MergeOutcome.Succeeded.class);
      assertThat(merger.changedPaths(queues.find("app").orElseThrow(), java.util.List.of(
          dev.conveyor.runway.change.ChangeUri.parse(changeUri("other", other))))).containsExactly("src/other.txt");
      assertThat(merging).isNotDone();
    } finally {
      release.countDown();
    }
    assertThat(merging.get(30, java.util.concurrent.TimeUnit.SECONDS)).isInstanceOf(MergeOutcome.Succeeded.class);
    assertThat(repos.show("main", "src/notes.txt")).isEqualTo("n");
  }

  @Test
  void changesAreFetchedOnlyFromConfiguredRemotesAndMustBeInTheirRef() throws Exception {
    String head = repos.commit("feature", "main", "feature", files("src/notes.txt", "n\n"));
    String other = repos.commit("other", "main", "other", files("src/other.txt", "o\n"));

    assertThat(failure(changeUri("feature", other))).contains("is not in ref 'refs/heads/feature'");
    assertThat(failure("change://fork/refs/heads/feature@" + head)).contains("names remote 'fork'", "[origin]");
    assertThat(failure(changeUri("gone", head))).contains("ref 'refs/heads/gone' does not exist");
    assertThat(failure("https://example.com/pr/1")).contains("only the change:// scheme");
    assertThat(failure("change://origin/feature@" + head.substring(0, 12))).contains("full 40-character");
    assertThat(failure(changeUri("feature", "0".repeat(40)))).contains("is not in ref");
    assertThat(Files.exists(tmp.resolve("cache"))).isTrue();
  }

  @Test
  void aSecondRemoteCanSupplyChanges() throws Exception {
    GitRepos fork = GitRepos.create(tmp.resolve("fork"), java.util.Map.of("README.md", "hello\n"));
    GitCli.run(fork.work(), "fetch", "-q", repos.originUrl(), "main");
    GitCli.run(fork.work(), "checkout", "-q", "-B", "main", "FETCH_HEAD");
    String head = fork.commit("contrib", "main", "from a fork", files("src/fork.txt", "f\n"));
    queues = dev.conveyor.runway.queue.RunwayQueues.of(queues.find("app").orElseThrow()
        .withRemote("fork", fork.originUrl()));

    merge(request("r", step("s", Strategy.REBASE, "change://fork/contrib@" + head)));

    assertThat(repos.show("main", "src/fork.txt")).isEqualTo("f");
  }

  @Test
  void changedPathsAndExportServeConflictAnalysisAndBuilds() throws Exception {
    repos.commit("main", "main moves on", files("README.md", "moved\n"));
    String head = repos.commit("feature", "main~1", "feature", files("src/app.txt", "ONE\n", "src/lib.txt", null,
        "bin/run.sh", "#!/bin/sh\necho hi\n"));
    GitCli.run(repos.work(), "update-index", "--chmod=+x", "bin/run.sh");
    GitCli.run(repos.work(), "commit", "-q", "--amend", "--no-edit");
    GitCli.run(repos.work(), "push", "-q", "-f", "origin", "feature");
    head = GitCli.run(repos.work(), "rev-parse", "HEAD");
    var queue = queues.find("app").orElseThrow();

    assertThat(merger.changedPaths(queue, java.util.List.of(dev.conveyor.runway.change.ChangeUri.parse(
        changeUri("feature", head))))).containsExactly("bin/run.sh", "src/app.txt", "src/lib.txt");

    var checked = (MergeOutcome.Succeeded) check(request("c", step("s", Strategy.REBASE, changeUri("feature", head))));
    var dir = tmp.resolve("tree");
    assertThat(merger.export(queue, checked.newTip(), dir)).isEqualTo(3);
    assertThat(Files.readString(dir.resolve("README.md"))).isEqualTo("moved\n");
    assertThat(Files.readString(dir.resolve("src/app.txt"))).isEqualTo("ONE\n");
    assertThat(dir.resolve("src/lib.txt")).doesNotExist();
    assertThat(Files.isExecutable(dir.resolve("bin/run.sh"))).isTrue();
  }

  private String failure(String uri) throws Exception {
    MergeOutcome outcome = merge(request("r", step("s", Strategy.REBASE, uri)));
    assertThat(outcome).isInstanceOf(MergeOutcome.Failed.class);
    return ((MergeOutcome.Failed) outcome).reason();
  }
}
