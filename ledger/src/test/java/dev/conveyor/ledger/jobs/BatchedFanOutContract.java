package dev.conveyor.ledger.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.jobs.Completion.Disposition;
import dev.conveyor.ledger.jobs.JobErrors.IdempotencyMismatchException;
import dev.conveyor.ledger.jobs.JobErrors.InvalidJobStateException;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.Outcomes.FannedOut;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.testing.LedgerTestBase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.stream.IntStream;
import org.junit.jupiter.api.Test;

/** A fan-out in batches (one transaction each): ordering, replay, resolution, cancellation, abandonment. */
public abstract class BatchedFanOutContract extends LedgerTestBase {
  private static final Duration LEASE = Duration.ofSeconds(30);
  private static final LeaseRequest PLANNERS = LeaseRequest.of("planner", Set.of(JobKind.PLAN_SNAPSHOT), LEASE);
  private static final LeaseRequest GROUPS =
      LeaseRequest.of("capture", Set.of(JobKind.EXEC_FILE_GROUP), LEASE).withMaxJobs(50);
  private static final LeaseRequest FINALIZERS = LeaseRequest.of("f", Set.of(JobKind.FINALIZE_SNAPSHOT), LEASE);

  private LeasedJobs jobs() {
    return ledger.jobs();
  }

  private static List<JobSpec> groups(int from, int n) {
    return IntStream.range(from, from + n).mapToObj(i -> JobSpec.builder(JobKind.EXEC_FILE_GROUP)
        .payload(("group-" + i).getBytes(StandardCharsets.UTF_8)).build()).toList();
  }

  private static List<JobSpec> withFinalizer(List<JobSpec> groups) {
    List<JobSpec> all = new ArrayList<>(groups);
    all.add(JobSpec.builder(JobKind.FINALIZE_SNAPSHOT).afterSiblings().build());
    return all;
  }

  private LeaseGrant planner() {
    jobs().enqueue(JobSpec.builder(JobKind.PLAN_SNAPSHOT).build());
    return jobs().leaseOne(PLANNERS).orElseThrow();
  }

  private void succeedAll(List<LeaseGrant> grants) {
    jobs().completeAll(grants, new Completion.Succeeded(null));
  }

  @Test
  void batchesGoInOrderKeepTheParentRunningAndTheLastMovesItToWaiting() {
    LeaseGrant p = planner();
    String root = p.job().id();
    FannedOut b0 = jobs().fanOutBatch(root, p.epoch(), 0, groups(0, 3), false);
    assertThat(jobs().get(root).state()).isEqualTo(JobState.RUNNING);
    assertThat(jobs().get(root).fanningOut()).isTrue();
    assertThatThrownBy(() -> jobs().fanOutBatch(root, p.epoch(), 2, groups(5, 1), false))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("batch 1").hasMessageContaining("in order");
    assertThatThrownBy(() -> jobs().fanOutBatch(root, p.epoch(), 1, withFinalizer(groups(3, 2)), false))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("last batch");
    // a planner cannot claim success before its last batch
    assertThatThrownBy(() -> jobs().complete(root, p.epoch(), new Completion.Succeeded(null)))
        .isInstanceOf(InvalidJobStateException.class).hasMessageContaining("last batch");
    FannedOut b1 = jobs().fanOutBatch(root, p.epoch(), 1, withFinalizer(groups(3, 2)), true);
    assertThat(b0.childIds()).hasSize(3);
    assertThat(b1.childIds()).hasSize(3);
    Job parent = jobs().get(root);
    assertThat(parent.state()).isEqualTo(JobState.WAITING);
    assertThat(parent.fanningOut()).isFalse();
    assertThat(jobs().complete(root, p.epoch(), new Completion.Succeeded(null)).state()).isEqualTo(JobState.WAITING);
    assertThat(jobs().children(root)).extracting(j -> j.payload().length == 0 ? "finalize"
        : new String(j.payload(), StandardCharsets.UTF_8))
        .containsExactly("group-0", "group-1", "group-2", "group-3", "group-4", "finalize");
  }

  @Test
  void aReLeasedPlannerReplaysStoredBatchesAsNoOpsAndADifferentBatchIsRefused() {
    LeaseGrant first = planner();
    String root = first.job().id();
    FannedOut b0 = jobs().fanOutBatch(root, first.epoch(), 0, groups(0, 2), false);
    // the first planner's lease lapses; a second planner takes the job over
    clock.advance(LEASE);
    assertThat(jobs().reapExpired(10)).isEqualTo(1);
    clock.advance(TEST_RETRY.backoff(1));
    LeaseGrant second = jobs().leaseOne(PLANNERS).orElseThrow();
    assertThat(second.job().fanningOut()).isTrue();
    // the stale planner can no longer add a batch
    assertThatThrownBy(() -> jobs().fanOutBatch(root, first.epoch(), 1, groups(2, 1), false))
        .isInstanceOf(LeaseLostException.class);

    FannedOut replay = jobs().fanOutBatch(root, second.epoch(), 0, groups(0, 2), false);
    assertThat(replay.replayed()).isTrue();
    assertThat(replay.childIds()).isEqualTo(b0.childIds());
    assertThatThrownBy(() -> jobs().fanOutBatch(root, second.epoch(), 0, groups(0, 3), false))
        .isInstanceOf(IdempotencyMismatchException.class).hasMessageContaining("batch 0");
    jobs().fanOutBatch(root, second.epoch(), 1, withFinalizer(groups(2, 1)), true);
    assertThat(jobs().children(root)).hasSize(4);
    // once the last batch is in, a replay of it answers the stored children and nothing new is accepted
    assertThat(jobs().fanOutBatch(root, second.epoch(), 1, withFinalizer(groups(2, 1)), true).replayed()).isTrue();
    assertThatThrownBy(() -> jobs().fanOutBatch(root, second.epoch(), 2, groups(9, 1), true))
        .isInstanceOf(IdempotencyMismatchException.class).hasMessageContaining("all its children");
    assertThatThrownBy(() -> jobs().fanOut(root, second.epoch(), groups(0, 1)))
        .isInstanceOf(IdempotencyMismatchException.class);
    assertThat(jobs().children(root)).hasSize(4);
  }

  @Test
  void childrenOfEarlierBatchesRunAtOnceAndTheLastBatchResolvesTheParentIfTheyAllEnded() {
    LeaseGrant p = planner();
    String root = p.job().id();
    jobs().fanOutBatch(root, p.epoch(), 0, groups(0, 2), false);
    List<LeaseGrant> early = jobs().lease(GROUPS);
    assertThat(early).hasSize(2);
    succeedAll(early);
    assertThat(jobs().get(root).state()).isEqualTo(JobState.RUNNING); // not resolved while still planning
    jobs().fanOutBatch(root, p.epoch(), 1, List.of(), true);
    assertThat(jobs().get(root).state()).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void aContinuationInTheLastBatchWaitsForEveryBatchAndIsCancelledIfAnEarlierChildFailed() {
    LeaseGrant p = planner();
    String root = p.job().id();
    jobs().fanOutBatch(root, p.epoch(), 0, groups(0, 1), false);
    LeaseGrant g0 = jobs().leaseOne(GROUPS).orElseThrow();
    jobs().complete(g0.job().id(), g0.epoch(), new Completion.Failed("corrupt", Disposition.TERMINAL));
    jobs().fanOutBatch(root, p.epoch(), 1, withFinalizer(groups(1, 1)), true);
    assertThat(jobs().leaseOne(FINALIZERS)).isEmpty();
    succeedAll(jobs().lease(GROUPS));
    Job finalizer = jobs().children(root).stream().filter(Job::afterSiblings).findFirst().orElseThrow();
    assertThat(finalizer.state()).isEqualTo(JobState.CANCELLED);
    assertThat(jobs().get(root).state()).isEqualTo(JobState.FAILED);
  }

  @Test
  void aPlannerThatFailsOrIsCancelledBeforeItsLastBatchTakesItsChildrenWithIt() {
    LeaseGrant p = planner();
    String root = p.job().id();
    jobs().fanOutBatch(root, p.epoch(), 0, groups(0, 2), false);
    LeaseGrant running = jobs().lease(GROUPS.withMaxJobs(1)).get(0);
    jobs().complete(root, p.epoch(), new Completion.Failed("listing broke", Disposition.TERMINAL));
    assertThat(jobs().get(root).state()).isEqualTo(JobState.FAILED);
    assertThat(jobs().children(root)).extracting(Job::state)
        .containsExactlyInAnyOrder(JobState.CANCELLING, JobState.CANCELLED);
    assertThat(jobs().renew(running.job().id(), running.epoch(), LEASE).cancellationRequested()).isTrue();

    LeaseGrant q = planner();
    jobs().fanOutBatch(q.job().id(), q.epoch(), 0, groups(0, 2), false);
    assertThat(jobs().cancel(q.job().id(), "stop")).isEqualTo(JobState.CANCELLING);
    assertThatThrownBy(() -> jobs().fanOutBatch(q.job().id(), q.epoch(), 1, groups(2, 1), true))
        .isInstanceOf(InvalidJobStateException.class).hasMessageContaining("cancelled");
    assertThat(jobs().children(q.job().id())).hasSize(2).allSatisfy(c ->
        assertThat(c.state()).isEqualTo(JobState.CANCELLED));
  }

  @Test
  void aPlannerWhoseAttemptsRunOutAtTheReaperTakesItsChildrenWithIt() {
    jobs().enqueue(JobSpec.builder(JobKind.PLAN_SNAPSHOT).maxAttempts(1).build());
    LeaseGrant p = jobs().leaseOne(PLANNERS).orElseThrow();
    jobs().fanOutBatch(p.job().id(), p.epoch(), 0, groups(0, 2), false);
    clock.advance(LEASE);
    assertThat(jobs().reapExpired(10)).isEqualTo(1);
    assertThat(jobs().get(p.job().id()).state()).isEqualTo(JobState.FAILED);
    assertThat(jobs().children(p.job().id())).allSatisfy(c -> assertThat(c.state()).isEqualTo(JobState.CANCELLED));
    assertThat(jobs().lease(GROUPS)).isEmpty();
  }
}
