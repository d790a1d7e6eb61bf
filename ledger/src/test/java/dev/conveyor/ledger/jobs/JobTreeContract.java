package dev.conveyor.ledger.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.jobs.Completion.Disposition;
import dev.conveyor.ledger.jobs.JobErrors.IdempotencyMismatchException;
import dev.conveyor.ledger.jobs.Outcomes.FannedOut;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.testing.LedgerTestBase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/** Fan-out, parent resolution, cancellation and the reaper, run against every backend. */
public abstract class JobTreeContract extends LedgerTestBase {
  private static final Duration LEASE = Duration.ofSeconds(30);
  private static final LeaseRequest PLANNERS =
      LeaseRequest.of("planner", Set.of(JobKind.PLAN_SNAPSHOT), LEASE);
  private static final LeaseRequest GROUPS =
      LeaseRequest.of("capture", Set.of(JobKind.EXEC_FILE_GROUP), LEASE).withMaxJobs(50);

  private LeasedJobs jobs() {
    return ledger.jobs();
  }

  private static List<JobSpec> groups(int n) {
    return java.util.stream.IntStream.range(0, n)
        .mapToObj(i -> JobSpec.builder(JobKind.EXEC_FILE_GROUP).maxAttempts(2)
            .payload(("group-" + i).getBytes(StandardCharsets.UTF_8)).build())
        .toList();
  }

  /** A PLAN_SNAPSHOT root fanned out into {@code n} file groups; returns the root's id. */
  private String plannedRoot(int n) {
    String root = jobs().enqueue(JobSpec.builder(JobKind.PLAN_SNAPSHOT).build()).jobId();
    LeaseGrant planner = jobs().leaseOne(PLANNERS).orElseThrow();
    FannedOut out = jobs().fanOut(root, planner.epoch(), groups(n));
    assertThat(out.childIds()).hasSize(n);
    assertThat(jobs().complete(root, planner.epoch(), new Completion.Succeeded(null)).state())
        .isEqualTo(JobState.WAITING);
    return root;
  }

  private Map<String, LeaseGrant> leaseGroups() {
    return jobs().lease(GROUPS).stream().collect(Collectors.toMap(g -> g.job().id(), Function.identity()));
  }

  @Test
  void fanOutMovesThePlannerToWaitingAndChildrenKeepTheirOrder() {
    String root = plannedRoot(3);
    assertThat(jobs().get(root).state()).isEqualTo(JobState.WAITING);
    List<Job> children = jobs().children(root);
    assertThat(children).extracting(j -> new String(j.payload(), StandardCharsets.UTF_8))
        .containsExactly("group-0", "group-1", "group-2");
    assertThat(children).allSatisfy(c -> {
      assertThat(c.parentId()).isEqualTo(root);
      assertThat(c.rootId()).isEqualTo(root);
      assertThat(c.state()).isEqualTo(JobState.QUEUED);
    });
    var tree = jobs().tree(root);
    assertThat(tree.children()).hasSize(3);
  }

  @Test
  void parentSucceedsWhenAllChildrenSucceed() {
    String root = plannedRoot(3);
    Map<String, LeaseGrant> leased = leaseGroups();
    assertThat(leased).hasSize(3);
    int i = 0;
    for (LeaseGrant g : leased.values()) {
      jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
      JobState expected = ++i < 3 ? JobState.WAITING : JobState.SUCCEEDED;
      assertThat(jobs().get(root).state()).isEqualTo(expected);
    }
  }

  @Test
  void parentFailsWhenAChildFails() {
    String root = plannedRoot(3);
    List<LeaseGrant> leased = List.copyOf(leaseGroups().values());
    jobs().complete(leased.get(0).job().id(), leased.get(0).epoch(), new Completion.Failed("corrupt",
        Disposition.TERMINAL));
    jobs().complete(leased.get(1).job().id(), leased.get(1).epoch(), new Completion.Cancelled("stop"));
    assertThat(jobs().get(root).state()).isEqualTo(JobState.WAITING);
    jobs().complete(leased.get(2).job().id(), leased.get(2).epoch(), new Completion.Succeeded(null));
    Job resolved = jobs().get(root);
    assertThat(resolved.state()).isEqualTo(JobState.FAILED);
    assertThat(resolved.lastError()).contains("FAILED");
  }

  @Test
  void parentIsCancelledWhenAChildIsCancelledAndNoneFailed() {
    String root = plannedRoot(2);
    List<String> children = jobs().children(root).stream().map(Job::id).toList();
    jobs().cancel(children.get(0), "not needed");
    Map<String, LeaseGrant> leased = leaseGroups();
    assertThat(leased.keySet()).containsExactly(children.get(1));
    jobs().complete(children.get(1), leased.get(children.get(1)).epoch(), new Completion.Succeeded(null));
    assertThat(jobs().get(root).state()).isEqualTo(JobState.CANCELLED);
  }

  private String plannedWithFinalizer(int groups) {
    String root = jobs().enqueue(JobSpec.builder(JobKind.PLAN_SNAPSHOT).build()).jobId();
    LeaseGrant planner = jobs().leaseOne(PLANNERS).orElseThrow();
    List<JobSpec> children = new java.util.ArrayList<>(groups(groups));
    children.add(JobSpec.builder(JobKind.FINALIZE_SNAPSHOT).afterSiblings().build());
    jobs().fanOut(root, planner.epoch(), children);
    return root;
  }

  private static final LeaseRequest FINALIZERS =
      LeaseRequest.of("finalizer", Set.of(JobKind.FINALIZE_SNAPSHOT), LEASE);

  @Test
  void aContinuationRunsOnlyAfterEveryOtherChild() {
    String root = plannedWithFinalizer(2);
    List<LeaseGrant> groups = List.copyOf(leaseGroups().values());
    assertThat(jobs().leaseOne(FINALIZERS)).isEmpty();
    jobs().complete(groups.get(0).job().id(), groups.get(0).epoch(), new Completion.Succeeded(null));
    assertThat(jobs().leaseOne(FINALIZERS)).isEmpty();
    jobs().complete(groups.get(1).job().id(), groups.get(1).epoch(), new Completion.Succeeded(null));
    assertThat(jobs().get(root).state()).isEqualTo(JobState.WAITING);
    LeaseGrant finalizer = jobs().leaseOne(FINALIZERS).orElseThrow();
    jobs().complete(finalizer.job().id(), finalizer.epoch(), new Completion.Succeeded(null));
    assertThat(jobs().get(root).state()).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void aContinuationIsCancelledWhenASiblingFailsAndTheParentResolves() {
    String root = plannedWithFinalizer(2);
    List<LeaseGrant> groups = List.copyOf(leaseGroups().values());
    jobs().complete(groups.get(0).job().id(), groups.get(0).epoch(), new Completion.Failed("corrupt",
        Disposition.TERMINAL));
    jobs().complete(groups.get(1).job().id(), groups.get(1).epoch(), new Completion.Succeeded(null));
    Job finalizer = jobs().children(root).stream().filter(Job::afterSiblings).findFirst().orElseThrow();
    assertThat(finalizer.state()).isEqualTo(JobState.CANCELLED);
    assertThat(finalizer.lastError()).contains("sibling");
    assertThat(jobs().leaseOne(FINALIZERS)).isEmpty();
    assertThat(jobs().get(root).state()).isEqualTo(JobState.FAILED);
  }

  @Test
  void plannerWithNoChildrenSucceedsAtOnce() {
    String root = jobs().enqueue(JobSpec.builder(JobKind.PLAN_SNAPSHOT).build()).jobId();
    LeaseGrant planner = jobs().leaseOne(PLANNERS).orElseThrow();
    jobs().fanOut(root, planner.epoch(), List.of());
    assertThat(jobs().get(root).state()).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void plannerReplayWithSameChildrenIsANoOpAndDifferentChildrenAreRefused() {
    String root = jobs().enqueue(JobSpec.builder(JobKind.PLAN_SNAPSHOT).build()).jobId();
    LeaseGrant planner = jobs().leaseOne(PLANNERS).orElseThrow();
    FannedOut first = jobs().fanOut(root, planner.epoch(), groups(2));
    FannedOut replay = jobs().fanOut(root, planner.epoch(), groups(2));
    assertThat(replay.replayed()).isTrue();
    assertThat(replay.childIds()).isEqualTo(first.childIds());
    assertThat(jobs().children(root)).hasSize(2);

    assertThatThrownBy(() -> jobs().fanOut(root, planner.epoch(), groups(3)))
        .isInstanceOf(IdempotencyMismatchException.class).hasMessageContaining(root);
    assertThat(jobs().children(root)).hasSize(2);
  }

  @Test
  void cancellingAQueuedJobEndsItAtOnce() {
    String id = jobs().enqueue(JobSpec.builder(JobKind.BUILD).build()).jobId();
    assertThat(jobs().cancel(id, "user asked")).isEqualTo(JobState.CANCELLED);
    Job job = jobs().get(id);
    assertThat(job.lastError()).isEqualTo("user asked");
    assertThat(jobs().leaseOne(LeaseRequest.of("w", Set.of(JobKind.BUILD), LEASE))).isEmpty();
  }

  @Test
  void cancellingARunningJobAsksItsHolderWhoseCompletionEndsCancelled() {
    String id = jobs().enqueue(JobSpec.builder(JobKind.BUILD).build()).jobId();
    LeaseGrant g = jobs().leaseOne(LeaseRequest.of("w", Set.of(JobKind.BUILD), LEASE)).orElseThrow();
    assertThat(jobs().cancel(id, "stop")).isEqualTo(JobState.CANCELLING);
    assertThat(jobs().renew(id, g.epoch(), LEASE).cancellationRequested()).isTrue();
    assertThat(jobs().progress(id, g.epoch(), JobProgress.NONE, LEASE).cancellationRequested()).isTrue();
    assertThat(jobs().cancellationRequested(id, g.epoch())).isTrue();
    // whatever the holder reports, a cancelling job ends cancelled
    assertThat(jobs().complete(id, g.epoch(), new Completion.Succeeded(null)).state()).isEqualTo(JobState.CANCELLED);
  }

  @Test
  void cancellingATreeCancelsQueuedDescendantsAndAsksRunningOnes() {
    String root = plannedRoot(3);
    List<String> children = jobs().children(root).stream().map(Job::id).toList();
    LeaseGrant running = jobs().lease(GROUPS.withMaxJobs(1)).get(0);

    assertThat(jobs().cancel(root, "abandon")).isEqualTo(JobState.CANCELLED);
    for (String child : children) {
      JobState expected = child.equals(running.job().id()) ? JobState.CANCELLING : JobState.CANCELLED;
      assertThat(jobs().get(child).state()).as(child).isEqualTo(expected);
    }
    assertThat(jobs().lease(GROUPS)).isEmpty();
    assertThat(jobs().complete(running.job().id(), running.epoch(), new Completion.Cancelled("saw cancel")).state())
        .isEqualTo(JobState.CANCELLED);
    assertThat(jobs().get(root).state()).isEqualTo(JobState.CANCELLED);
  }

  @Test
  void reaperRequeuesExpiredLeasesWithBackoffThenFailsAtMaxAttempts() {
    String root = plannedRoot(1); // children allow 2 attempts
    String child = jobs().children(root).get(0).id();
    LeaseGrant first = leaseGroups().get(child);
    clock.advance(LEASE.minusMillis(1));
    assertThat(jobs().reapExpired(100)).isZero();
    clock.advance(Duration.ofMillis(1));
    assertThat(jobs().reapExpired(100)).isEqualTo(1);
    Job requeued = jobs().get(child);
    assertThat(requeued.state()).isEqualTo(JobState.QUEUED);
    assertThat(requeued.leaseEpoch()).isNull();
    assertThat(requeued.runAfter()).isEqualTo(clock.instant().plus(TEST_RETRY.backoff(1)));
    assertThat(requeued.lastError()).contains("lease expired").contains("capture");
    assertThat(jobs().renew(child, first.epoch(), LEASE).renewed()).isFalse();

    clock.advance(TEST_RETRY.backoff(1));
    LeaseGrant second = leaseGroups().get(child);
    assertThat(second.epoch()).isNotEqualTo(first.epoch());
    clock.advance(LEASE);
    assertThat(jobs().reapExpired(100)).isEqualTo(1);
    assertThat(jobs().get(child).state()).isEqualTo(JobState.FAILED);
    assertThat(jobs().get(root).state()).isEqualTo(JobState.FAILED);
  }

  @Test
  void reaperFinishesACancelWhoseHolderVanished() {
    String id = jobs().enqueue(JobSpec.builder(JobKind.BUILD).build()).jobId();
    jobs().leaseOne(LeaseRequest.of("w", Set.of(JobKind.BUILD), LEASE)).orElseThrow();
    jobs().cancel(id, "stop");
    clock.advance(LEASE);
    assertThat(jobs().reapExpired(100)).isEqualTo(1);
    assertThat(jobs().get(id).state()).isEqualTo(JobState.CANCELLED);
  }

  @Test
  void listFiltersByStateKindAndRoots() {
    String root = plannedRoot(2);
    jobs().enqueue(JobSpec.builder(JobKind.BUILD).build());
    assertThat(jobs().list(Set.of(), Set.of(), true, 100, null)).extracting(Job::kind)
        .containsExactlyInAnyOrder(JobKind.PLAN_SNAPSHOT, JobKind.BUILD);
    assertThat(jobs().list(Set.of(JobState.WAITING), Set.of(), false, 100, null)).extracting(Job::id)
        .containsExactly(root);
    assertThat(jobs().list(Set.of(JobState.QUEUED), Set.of(JobKind.EXEC_FILE_GROUP), false, 100, null)).hasSize(2);
    List<Job> page1 = jobs().list(Set.of(), Set.of(), false, 2, null);
    List<Job> page2 = jobs().list(Set.of(), Set.of(), false, 2, page1.get(1).id());
    assertThat(page2).hasSize(2).doesNotContainAnyElementsOf(page1);
  }
}
