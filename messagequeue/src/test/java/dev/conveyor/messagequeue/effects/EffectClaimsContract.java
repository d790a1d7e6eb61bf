package dev.conveyor.messagequeue.effects;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.testing.ChildJvm;
import dev.conveyor.ledger.testing.LedgerTestBase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Effect claims as the authority for side effects. */
public abstract class EffectClaimsContract extends LedgerTestBase {
  private static final Duration LEASE = Duration.ofSeconds(30);

  private EffectClaims claims() {
    return new EffectClaims(ledger);
  }

  @Test
  void concurrentExecuteOnceRunsTheEffectOnceAndEveryoneGetsItsResult() throws Exception {
    AtomicInteger runs = new AtomicInteger();
    Callable<byte[]> push = () -> {
      int n = runs.incrementAndGet();
      return ("pushed " + n).getBytes(StandardCharsets.UTF_8);
    };
    ExecutorService pool = Executors.newFixedThreadPool(8);
    try (ExecuteOnce once = new ExecuteOnce(claims(), clock)) {
      List<Future<byte[]>> calls = new ArrayList<>();
      for (int i = 0; i < 8; i++) {
        String holder = "node-" + i;
        calls.add(pool.submit(() -> once.run("git-push", "main@abc", holder, LEASE, push)));
      }
      for (Future<byte[]> f : calls) {
        assertThat(new String(f.get(), StandardCharsets.UTF_8)).isEqualTo("pushed 1");
      }
      assertThat(runs.get()).isEqualTo(1);
      // a completed claim is never re-run
      assertThat(once.run("git-push", "main@abc", "late", LEASE, push)).asString().isEqualTo("pushed 1");
      assertThat(runs.get()).isEqualTo(1);
    } finally {
      pool.shutdown();
    }
  }

  @Test
  void aStaleHolderCannotReleaseOrCompleteATakenOverClaim() {
    var first = (ClaimResult.Acquired) claims().claim("stats", "t1/s1/col-a", "worker-1", Duration.ofSeconds(5));
    assertThat(claims().claim("stats", "t1/s1/col-a", "worker-2", LEASE)).isInstanceOf(ClaimResult.Held.class);
    clock.advance(Duration.ofSeconds(5));
    assertThat(claims().renew("stats", "t1/s1/col-a", first.token(), LEASE)).isFalse();
    var second = (ClaimResult.Acquired) claims().claim("stats", "t1/s1/col-a", "worker-2", LEASE);
    assertThat(second.transitions()).isEqualTo(1);

    assertThatThrownBy(() -> claims().release("stats", "t1/s1/col-a", first.token()))
        .isInstanceOf(ClaimLostException.class).hasMessageContaining("worker-2");
    assertThatThrownBy(() -> claims().complete("stats", "t1/s1/col-a", first.token(), new byte[] {1}))
        .isInstanceOf(ClaimLostException.class);
    claims().complete("stats", "t1/s1/col-a", second.token(), new byte[] {2});
    var done = claims().claim("stats", "t1/s1/col-a", "worker-3", LEASE);
    assertThat(done).isInstanceOf(ClaimResult.AlreadyCompleted.class);
    assertThat(((ClaimResult.AlreadyCompleted) done).result()).containsExactly(2);
    assertThatThrownBy(() -> claims().release("stats", "t1/s1/col-a", second.token()))
        .isInstanceOf(ClaimLostException.class).hasMessageContaining("already completed");
  }

  @Test
  void theSummaryIsAlwaysAQueryOverTheClaims() {
    var a = (ClaimResult.Acquired) claims().claim("scope", "a", "h", LEASE);
    claims().claim("scope", "b", "h", LEASE);
    var c = (ClaimResult.Acquired) claims().claim("scope", "c", "h", LEASE);
    claims().complete("scope", "a", a.token(), new byte[0]);
    claims().release("scope", "c", c.token());
    var summary = claims().summary("scope", 10);
    assertThat(summary.completed()).isEqualTo(1);
    assertThat(summary.held()).isEqualTo(1);
    assertThat(summary.released()).isEqualTo(1);
    assertThat(summary.recent()).extracting(EffectClaims.ClaimView::key).containsExactlyInAnyOrder("a", "b", "c");
    long rows = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM effect_claims WHERE scope = 'scope'"));
    assertThat(summary.held() + summary.completed() + summary.released()).isEqualTo(rows);
  }

  @Test
  void resultsAreBounded() {
    var a = (ClaimResult.Acquired) claims().claim("scope", "big", "h", LEASE);
    assertThatThrownBy(() -> claims().complete("scope", "big", a.token(), new byte[EffectClaims.MAX_RESULT_BYTES + 1]))
        .hasMessageContaining("at most");
  }

  @Test
  void aHolderWhoseProcessDiesLosesTheClaimAtExpiryAndATakeoverRunsTheEffect() throws Exception {
    long expiresAt;
    try (ChildJvm child = ChildJvm.start(ClaimAndHang.class, ledgerUrl(), "git-push", "main@def", "10")) {
      child.readUntil("CLAIMED");
      child.kill();
    }
    expiresAt = ledger.transact(tx -> tx.queryLong("SELECT expires_at FROM effect_claims WHERE scope = 'git-push'"
        + " AND effect_key = 'main@def' AND holder = 'doomed'"));
    clock.set(Instant.ofEpochMilli(expiresAt).minusMillis(1));
    assertThat(claims().claim("git-push", "main@def", "survivor", LEASE)).isInstanceOf(ClaimResult.Held.class);
    clock.set(Instant.ofEpochMilli(expiresAt));
    AtomicInteger runs = new AtomicInteger();
    try (ExecuteOnce once = new ExecuteOnce(claims(), clock)) {
      byte[] result = once.run("git-push", "main@def", "survivor", LEASE, () -> {
        runs.incrementAndGet();
        return "pushed by survivor".getBytes(StandardCharsets.UTF_8);
      });
      assertThat(result).asString().isEqualTo("pushed by survivor");
    }
    assertThat(runs.get()).isEqualTo(1);
    assertThat(claims().summary("git-push", 5).recent().get(0).transitions()).isEqualTo(1);
  }
}
