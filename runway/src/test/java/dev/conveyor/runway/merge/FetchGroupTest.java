package dev.conveyor.runway.merge;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.base.Strategy;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.locks.ReentrantLock;
import org.junit.jupiter.api.Test;

/** Checks that arrive together share fetch rounds, and each still gets the verdict on its own change. */
class FetchGroupTest extends MergerTestBase {

  @Test
  void callersWaitingForARoundShareTheNextAndEachGetsItsOwnVerdict() throws Exception {
    int n = 12;
    List<String> uris = new ArrayList<>();
    for (int i = 0; i < n; i++) {
      uris.add(changeUri("c" + i, repos.commit("c" + i, "main", "change " + i, files("f" + i + ".txt", i + "\n"))));
    }
    String missingRef = changeUri("nowhere", repos.commit("gone", "main", "gone", files("g.txt", "g\n")))
        .replace("/nowhere@", "/no-such-branch@");
    FetchGroup group = merger.fetchGroupOf(queues.find("app").orElseThrow());
    ReentrantLock exclusive = group.exclusive();
    ExecutorService pool = Executors.newFixedThreadPool(n + 1);
    try {
      exclusive.lock(); // the first caller leads a round that waits here; everyone after it queues
      List<Future<MergeOutcome>> outcomes = new ArrayList<>();
      for (int i = 0; i < n; i++) {
        String uri = uris.get(i);
        outcomes.add(pool.submit(() -> check(request("r" + uri.hashCode(), step("s", Strategy.REBASE, uri)))));
      }
      Future<MergeOutcome> bad = pool.submit(() -> check(request("bad", step("s-bad", Strategy.REBASE, missingRef))));
      await().atMost(Duration.ofSeconds(20)).until(() -> group.waiting() == n); // n + 1 callers, one leading
      exclusive.unlock();
      for (Future<MergeOutcome> f : outcomes) {
        assertThat(f.get()).isInstanceOf(MergeOutcome.Succeeded.class);
      }
      assertThat(bad.get()).isInstanceOfSatisfying(MergeOutcome.Failed.class, failed ->
          assertThat(failed.reason()).contains("no-such-branch", "does not exist"));
      long[] counts = merger.fetchCounts("app");
      assertThat(counts[1]).isEqualTo(n + 1);
      assertThat(counts[0]).isEqualTo(2); // the first caller's round, then one round for all the others
    } finally {
      if (exclusive.isHeldByCurrentThread()) {
        exclusive.unlock();
      }
      pool.shutdownNow();
    }
  }

  @Test
  void aRoundStartedAfterACallerAskedSeesTheTargetAsNewAsItsOwnFetchWould() throws Exception {
    String a = changeUri("a", repos.commit("a", "main", "a", files("a.txt", "a\n")));
    assertThat(check(request("first", step("s", Strategy.REBASE, a)))).isInstanceOf(MergeOutcome.Succeeded.class);
    repos.commit("main", "main", "moved", files("a.txt", "main's own\n"));
    // the target moved since the last round: the next check fetches again and sees the conflict
    assertThat(check(request("second", step("s", Strategy.REBASE, a)))).isInstanceOfSatisfying(
        MergeOutcome.Failed.class, f -> assertThat(f.paths()).contains("a.txt"));
  }
}
