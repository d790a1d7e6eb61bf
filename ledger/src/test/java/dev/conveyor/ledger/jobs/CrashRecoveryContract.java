package dev.conveyor.ledger.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.testing.ChildJvm;
import dev.conveyor.ledger.testing.LedgerTestBase;
import java.time.Duration;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.junit.jupiter.api.Test;

/**
 * A holder process dies with SIGKILL mid-work. After its leases expire the jobs are re-leased
 * under new epochs and the dead holder's late completion is refused.
 */
public abstract class CrashRecoveryContract extends LedgerTestBase {

  @Test
  void jobsOfAKilledHolderAreReleasedAfterExpiryAndItsLateCompletionIsRefused() throws Exception {
    for (int i = 0; i < 5; i++) {
      ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).build());
    }
    Map<String, String> deadEpochs = new HashMap<>();
    long expiresAt;
    try (ChildJvm child = ChildJvm.start(LeaseAndHang.class, ledgerUrl(), "3", "30")) {
      List<String> lines = child.readUntil("LEASED");
      assertThat(lines).hasSize(3);
      long latest = 0;
      for (String line : lines) {
        String[] parts = line.split(" ");
        deadEpochs.put(parts[0], parts[1]);
        latest = Math.max(latest, Long.parseLong(parts[2]));
      }
      expiresAt = latest;
      child.kill();
    }
    // The child used the wall clock; move ours to just before, then just after, its expiry.
    clock.set(Instant.ofEpochMilli(expiresAt).minusMillis(1));
    assertThat(ledger.jobs().reapExpired(100)).isZero();
    for (String id : deadEpochs.keySet()) {
      assertThat(ledger.jobs().get(id).state()).isEqualTo(JobState.RUNNING);
    }
    clock.set(Instant.ofEpochMilli(expiresAt));
    assertThat(ledger.jobs().reapExpired(100)).isEqualTo(3);
    clock.advance(TEST_RETRY.backoff(1));

    LeaseRequest survivor = LeaseRequest.of("survivor", Set.of(JobKind.BUILD), Duration.ofSeconds(30)).withMaxJobs(10);
    List<LeaseGrant> regrants = ledger.jobs().lease(survivor);
    assertThat(regrants).hasSize(5);
    for (LeaseGrant g : regrants) {
      String dead = deadEpochs.get(g.job().id());
      if (dead != null) {
        assertThat(g.epoch()).isNotEqualTo(dead);
        assertThat(g.job().attempts()).isEqualTo(2);
        assertThatThrownBy(() -> ledger.jobs().complete(g.job().id(), dead, new Completion.Succeeded("late")))
            .isInstanceOf(LeaseLostException.class);
        assertThat(ledger.jobs().renew(g.job().id(), dead, Duration.ofSeconds(30)).renewed()).isFalse();
      }
      assertThat(ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null)).state())
          .isEqualTo(JobState.SUCCEEDED);
    }
  }
}
