package dev.conveyor.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.JobErrors;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.Completed;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.testing.LedgerTestBase;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import org.junit.jupiter.api.Test;

/** Group commit: one transaction for queued units, each caller answered as if it had committed alone. */
abstract class GroupCommitContract extends LedgerTestBase {

  @Test
  void aBatchSharesOneCommitAndAFailedUnitLeavesNothingBehind() {
    ledger.jobs().enqueueAll(List.of(JobSpec.builder(JobKind.BUILD).build(), JobSpec.builder(JobKind.BUILD).build(),
        JobSpec.builder(JobKind.BUILD).build()));
    List<LeaseGrant> grants = ledger.jobs().lease(LeaseRequest.of("holder", Set.of(JobKind.BUILD),
        Duration.ofMinutes(5)).withMaxJobs(3));
    assertThat(grants).hasSize(3);
    String ok = grants.get(0).job().id();
    String broken = grants.get(1).job().id();
    String stale = grants.get(2).job().id();
    AtomicBoolean brokenAfterCommitRan = new AtomicBoolean();
    GroupCommit group = ledger.groupCommit();
    long[] before = ledger.groupCommitCounts();
    long carefulBefore = group.carefulRetries();
    // one batch, run on this thread the way a committer runs it
    var first = new GroupCommit.Call<>(tx -> ledger.jobs().complete(tx, ok, grants.get(0).epoch(),
        new Completion.Succeeded(null)));
    var second = new GroupCommit.Call<>(tx -> {
      // writes, registers an after-commit action, then fails deterministically
      ledger.jobs().complete(tx, broken, grants.get(1).epoch(), new Completion.Succeeded(null));
      tx.afterCommit(() -> brokenAfterCommitRan.set(true));
      throw new IllegalStateException("this unit changed its mind");
    });
    var third = new GroupCommit.Call<>(tx -> ledger.jobs().complete(tx, stale, "not-the-epoch",
        new Completion.Succeeded(null)));
    group.flush(List.of(first, second, third));

    Completed done = group.await(first);
    assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
    long[] after = ledger.groupCommitCounts();
    assertThat(after[0] - before[0]).as("transactions").isEqualTo(1);
    assertThat(after[1] - before[1]).as("units in it").isEqualTo(3);
    assertThat(group.carefulRetries() - carefulBefore)
        .as("the attempt without savepoints was rolled back and the batch ran again unit by unit").isEqualTo(1);
    assertThatThrownBy(() -> group.await(second)).isInstanceOf(IllegalStateException.class)
        .hasMessageContaining("changed its mind");
    assertThatThrownBy(() -> group.await(third)).isInstanceOf(JobErrors.LeaseLostException.class);

    assertThat(ledger.jobs().get(ok).state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(ledger.jobs().get(broken).state()).as("the failed unit's write was rolled back")
        .isEqualTo(JobState.RUNNING);
    assertThat(brokenAfterCommitRan).as("the failed unit's after-commit action").isFalse();
    assertThat(ledger.jobs().get(stale).state()).isEqualTo(JobState.RUNNING);
    // a replay through the public path answers the stored outcome, as it would alone
    assertThat(ledger.jobs().complete(ok, grants.get(0).epoch(), new Completion.Succeeded(null)).replayed()).isTrue();
  }

  @Test
  void aSignalRaisedByAUnitThatWasRolledBackIsStillSentByALaterUnitRaisingItToo() {
    List<String> heard = new java.util.concurrent.CopyOnWriteArrayList<>();
    ledger.signals().listen("conveyor_group_probe", heard::add);
    GroupCommit group = ledger.groupCommit();
    var failing = new GroupCommit.Call<>(tx -> {
      tx.signal("conveyor_group_probe", "ready");
      throw new IllegalStateException("this unit changed its mind");
    });
    var committing = new GroupCommit.Call<>(tx -> {
      tx.signal("conveyor_group_probe", "ready"); // the same signal: sent once per transaction, by whoever commits
      return 1;
    });
    group.flush(List.of(failing, committing));

    assertThat(group.await(committing)).isEqualTo(1);
    assertThatThrownBy(() -> group.await(failing)).hasMessageContaining("changed its mind");
    org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(10))
        .untilAsserted(() -> assertThat(heard).as("signals after the commit").containsExactly("ready"));
  }

  @Test
  void aGroupedUnitInsideATransactionIsRefusedAlone() {
    assertThatThrownBy(() -> ledger.transact(tx -> ledger.transactGrouped(t -> 1)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("nested");
    long one = ledger.transactGrouped(tx -> tx.queryLong("SELECT 1"));
    assertThat(one).isEqualTo(1L);
  }

  @Test
  void manyThreadsCompletingAtOnceEachGetTheirOwnAnswer() throws Exception {
    int n = 64;
    List<JobSpec> specs = new java.util.ArrayList<>();
    for (int i = 0; i < n; i++) {
      specs.add(JobSpec.builder(JobKind.BUILD).build());
    }
    ledger.jobs().enqueueAll(specs);
    List<LeaseGrant> grants = ledger.jobs().lease(LeaseRequest.of("holder", Set.of(JobKind.BUILD),
        Duration.ofMinutes(5)).withMaxJobs(n));
    var pool = java.util.concurrent.Executors.newFixedThreadPool(16);
    try {
      List<java.util.concurrent.Future<JobState>> answers = new java.util.ArrayList<>();
      for (int i = 0; i < n; i++) {
        LeaseGrant g = grants.get(i);
        // every fourth caller presents a wrong epoch: only it is refused
        String epoch = i % 4 == 0 ? "wrong" : g.epoch();
        answers.add(pool.submit(() -> {
          try {
            return ledger.jobs().complete(g.job().id(), epoch, new Completion.Succeeded(null)).state();
          } catch (JobErrors.LeaseLostException e) {
            return JobState.RUNNING;
          }
        }));
      }
      for (int i = 0; i < n; i++) {
        JobState expected = i % 4 == 0 ? JobState.RUNNING : JobState.SUCCEEDED;
        assertThat(answers.get(i).get()).isEqualTo(expected);
        assertThat(ledger.jobs().get(grants.get(i).job().id()).state()).isEqualTo(expected);
      }
    } finally {
      pool.shutdownNow();
    }
  }

  /** A shared work over completions that counts its shared runs; it refuses a request by answering, not throwing. */
  private final class CountingCompleter implements Coalesced<String[], JobState> {
    final java.util.concurrent.atomic.AtomicInteger sharedRuns = new java.util.concurrent.atomic.AtomicInteger();
    volatile boolean failShared;

    @Override
    public List<Answer<JobState>> runAll(Tx tx, List<String[]> requests) throws java.sql.SQLException {
      if (requests.size() > 1) {
        sharedRuns.incrementAndGet();
      }
      List<Answer<JobState>> out = new java.util.ArrayList<>();
      for (String[] r : requests) {
        if (!r[1].equals(ledger.jobs().get(tx, r[0]).leaseEpoch())) {
          out.add(Answer.refused(new JobErrors.LeaseLostException(r[0], "not the epoch")));
          continue;
        }
        out.add(Answer.of(ledger.jobs().complete(tx, r[0], r[1], new Completion.Succeeded(null)).state()));
      }
      if (failShared && requests.size() > 1) {
        throw new IllegalStateException("the shared run failed after writing");
      }
      return out;
    }
  }

  @Test
  void requestsOfOneSharedWorkRunTogetherAndARefusalStaysWithItsCaller() {
    List<LeaseGrant> grants = leaseThree();
    CountingCompleter completer = new CountingCompleter();
    GroupCommit group = ledger.groupCommit();
    var a = new GroupCommit.Call<>(completer, new String[] {grants.get(0).job().id(), grants.get(0).epoch()});
    var stale = new GroupCommit.Call<>(completer, new String[] {grants.get(1).job().id(), "not-the-epoch"});
    var c = new GroupCommit.Call<>(completer, new String[] {grants.get(2).job().id(), grants.get(2).epoch()});
    long carefulBefore = group.carefulRetries();
    group.flush(List.of(a, stale, c));

    assertThat(completer.sharedRuns).as("one shared run for the three").hasValue(1);
    assertThat(group.carefulRetries()).as("a refusal is an answer, not a failed attempt").isEqualTo(carefulBefore);
    assertThat(group.await(a)).isEqualTo(JobState.SUCCEEDED);
    assertThat(group.await(c)).isEqualTo(JobState.SUCCEEDED);
    assertThatThrownBy(() -> group.await(stale)).isInstanceOf(JobErrors.LeaseLostException.class);
    assertThat(ledger.jobs().get(grants.get(1).job().id()).state()).isEqualTo(JobState.RUNNING);
  }

  @Test
  void aSharedRunThatFailsIsUndoneAndEachRequestRunsAlone() {
    List<LeaseGrant> grants = leaseThree();
    CountingCompleter completer = new CountingCompleter();
    completer.failShared = true;
    GroupCommit group = ledger.groupCommit();
    var a = new GroupCommit.Call<>(completer, new String[] {grants.get(0).job().id(), grants.get(0).epoch()});
    var b = new GroupCommit.Call<>(completer, new String[] {grants.get(1).job().id(), grants.get(1).epoch()});
    group.flush(List.of(a, b));

    // had the shared run's writes survived, the second run of each request would have found its lease gone
    assertThat(completer.sharedRuns).hasValue(1);
    assertThat(group.await(a)).isEqualTo(JobState.SUCCEEDED);
    assertThat(group.await(b)).isEqualTo(JobState.SUCCEEDED);
    assertThat(ledger.jobs().get(grants.get(2).job().id()).state()).isEqualTo(JobState.RUNNING);
  }

  private List<LeaseGrant> leaseThree() {
    ledger.jobs().enqueueAll(List.of(JobSpec.builder(JobKind.BUILD).build(), JobSpec.builder(JobKind.BUILD).build(),
        JobSpec.builder(JobKind.BUILD).build()));
    List<LeaseGrant> grants = ledger.jobs().lease(LeaseRequest.of("holder", Set.of(JobKind.BUILD),
        Duration.ofMinutes(5)).withMaxJobs(3));
    assertThat(grants).hasSize(3);
    return grants;
  }
}
