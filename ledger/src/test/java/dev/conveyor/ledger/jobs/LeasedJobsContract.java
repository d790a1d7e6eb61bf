package dev.conveyor.ledger.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.jobs.Completion.Disposition;
import dev.conveyor.ledger.jobs.JobErrors.IdempotencyMismatchException;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.testing.LedgerTestBase;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

/** The leased-job lifecycle, run unchanged against every ledger backend. */
public abstract class LeasedJobsContract extends LedgerTestBase {
  protected static final Duration LEASE = Duration.ofSeconds(30);

  protected LeasedJobs jobs() {
    return ledger.jobs();
  }

  protected static JobSpec build() {
    return JobSpec.builder(JobKind.BUILD).maxAttempts(3).build();
  }

  protected LeaseRequest anyBuild(String executor) {
    return LeaseRequest.of(executor, Set.of(JobKind.BUILD), LEASE);
  }

  protected LeaseGrant leaseOnly(LeaseRequest req) {
    return jobs().leaseOne(req).orElseThrow(() -> new AssertionError("expected a job to lease"));
  }

  @Test
  void happyPathLeaseStartRenewProgressComplete() {
    String id = jobs().enqueue(build()).jobId();
    assertThat(jobs().get(id).state()).isEqualTo(JobState.QUEUED);

    LeaseGrant grant = leaseOnly(anyBuild("w1"));
    assertThat(grant.job().id()).isEqualTo(id);
    assertThat(grant.expiresAt()).isEqualTo(T0.plus(LEASE));
    Job running = jobs().get(id);
    assertThat(running.state()).isEqualTo(JobState.RUNNING);
    assertThat(running.leaseEpoch()).isEqualTo(grant.epoch());
    assertThat(running.leaseOwner()).isEqualTo("w1");
    assertThat(running.attempts()).isEqualTo(1);

    assertThat(jobs().start(id, grant.epoch())).isEqualTo(T0);
    clock.advance(Duration.ofSeconds(10));
    var renewed = jobs().renew(id, grant.epoch(), LEASE);
    assertThat(renewed.renewed()).isTrue();
    assertThat(renewed.expiresAt()).isEqualTo(T0.plusSeconds(40));
    var progressed = jobs().progress(id, grant.epoch(), new JobProgress(3, 10, 0, 100, "3 of 10"), LEASE);
    assertThat(progressed.renewed()).isTrue();
    assertThat(jobs().get(id).progress()).isEqualTo(new JobProgress(3, 10, 0, 100, "3 of 10"));

    var done = jobs().complete(id, grant.epoch(), new Completion.Succeeded("ok"));
    assertThat(done.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(done.replayed()).isFalse();
    Job finished = jobs().get(id);
    assertThat(finished.leaseEpoch()).isNull();
    assertThat(finished.finishedAt()).isEqualTo(T0.plusSeconds(10));
    assertThat(jobs().leaseOne(anyBuild("w1"))).isEmpty();
  }

  @Test
  void aHandedBackLeaseIsReadyAtOnceWithoutCountingTheAttempt() {
    String id = jobs().enqueue(build()).jobId();
    LeaseGrant first = leaseOnly(anyBuild("w1"));
    jobs().start(id, first.epoch());
    assertThat(jobs().handBack(id, "not-the-epoch", "x")).isFalse();
    assertThat(jobs().handBack(id, first.epoch(), "shutting down")).isTrue();
    Job back = jobs().get(id);
    assertThat(back.state()).isEqualTo(JobState.QUEUED);
    assertThat(back.attempts()).isZero();
    assertThat(back.lastError()).contains("handed back by w1: shutting down");
    // ready now, not after a backoff or the lease's end; the old holder is fenced out
    LeaseGrant second = leaseOnly(anyBuild("w2"));
    assertThat(second.job().id()).isEqualTo(id);
    assertThat(jobs().get(id).attempts()).isEqualTo(1);
    assertThatThrownBy(() -> jobs().complete(id, first.epoch(), new Completion.Succeeded(null)))
        .isInstanceOf(LeaseLostException.class);
    assertThat(jobs().handBack(id, first.epoch(), "late")).isFalse();
    jobs().complete(id, second.epoch(), new Completion.Succeeded(null));
    assertThat(jobs().handBack(id, second.epoch(), "after the end")).isFalse();
    assertThat(jobs().get(id).state()).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void aCancellingJobHandedBackEndsCancelled() {
    String id = jobs().enqueue(build()).jobId();
    LeaseGrant g = leaseOnly(anyBuild("w1"));
    jobs().cancel(id, "no longer wanted");
    assertThat(jobs().handBack(id, g.epoch(), "shutting down")).isTrue();
    assertThat(jobs().get(id).state()).isEqualTo(JobState.CANCELLED);
  }

  @Test
  void progressCountersAreMonotonic() {
    jobs().enqueue(build());
    LeaseGrant g = leaseOnly(anyBuild("w1"));
    jobs().progress(g.job().id(), g.epoch(), new JobProgress(5, 10, 1, 500, "a"), LEASE);
    jobs().progress(g.job().id(), g.epoch(), new JobProgress(4, 10, 0, 400, "b"), LEASE);
    assertThat(jobs().get(g.job().id()).progress()).isEqualTo(new JobProgress(5, 10, 1, 500, "b"));
  }

  @Test
  void everyEpochIsFreshAndOpaque() {
    jobs().enqueue(build());
    LeaseGrant first = leaseOnly(anyBuild("w1"));
    jobs().complete(first.job().id(), first.epoch(), new Completion.Failed("flaky", Disposition.RETRYABLE));
    clock.advance(Duration.ofSeconds(1));
    LeaseGrant second = leaseOnly(anyBuild("w1"));
    assertThat(second.job().id()).isEqualTo(first.job().id());
    assertThat(second.epoch()).isNotEqualTo(first.epoch()).hasSizeGreaterThanOrEqualTo(32);
  }

  @Test
  void staleEpochIsRefusedForRenewProgressStartAndComplete() {
    String id = jobs().enqueue(build()).jobId();
    LeaseGrant first = leaseOnly(anyBuild("w1"));
    clock.advance(LEASE.plusSeconds(1));
    assertThat(jobs().reapExpired(100)).isEqualTo(1);
    clock.advance(Duration.ofSeconds(1));
    LeaseGrant second = leaseOnly(anyBuild("w2"));
    assertThat(second.job().id()).isEqualTo(id);

    assertThat(jobs().renew(id, first.epoch(), LEASE).renewed()).isFalse();
    assertThatThrownBy(() -> jobs().progress(id, first.epoch(), JobProgress.NONE, LEASE))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> jobs().start(id, first.epoch())).isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> jobs().complete(id, first.epoch(), new Completion.Succeeded(null)))
        .isInstanceOf(LeaseLostException.class).hasMessageContaining(id);
    assertThatThrownBy(() -> jobs().cancellationRequested(id, first.epoch())).isInstanceOf(LeaseLostException.class);
    // the live holder is untouched
    assertThat(jobs().renew(id, second.epoch(), LEASE).renewed()).isTrue();
    assertThat(jobs().complete(id, second.epoch(), new Completion.Succeeded(null)).state())
        .isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void renewOfAnExpiredLeaseAnswersNotRenewed() {
    String id = jobs().enqueue(build()).jobId();
    LeaseGrant g = leaseOnly(anyBuild("w1"));
    clock.advance(LEASE);
    assertThat(jobs().renew(id, g.epoch(), LEASE).renewed()).isFalse();
    assertThatThrownBy(() -> jobs().progress(id, g.epoch(), JobProgress.NONE, LEASE))
        .isInstanceOf(LeaseLostException.class).hasMessageContaining("expired");
  }

  @Test
  void expiredButUnreclaimedLeaseMayStillCompleteAndDuplicatesAreIdempotent() {
    String id = jobs().enqueue(build()).jobId();
    LeaseGrant g = leaseOnly(anyBuild("w1"));
    clock.advance(LEASE.plusSeconds(5));
    var first = jobs().complete(id, g.epoch(), new Completion.Succeeded("done"));
    assertThat(first.state()).isEqualTo(JobState.SUCCEEDED);
    var again = jobs().complete(id, g.epoch(), new Completion.Succeeded("done"));
    assertThat(again.state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(again.replayed()).isTrue();
    assertThatThrownBy(() -> jobs().complete(id, g.epoch(), new Completion.Failed("x", Disposition.TERMINAL)))
        .isInstanceOf(IdempotencyMismatchException.class);
    assertThat(jobs().reapExpired(100)).isZero();
  }

  @Test
  void pinnedJobsGoOnlyToRequestsNamingTheirExecutor() {
    String pinned = jobs().enqueue(JobSpec.builder(JobKind.EXEC_FILE_GROUP).pinnedExecutorId("rust-capture").build())
        .jobId();
    String free = jobs().enqueue(JobSpec.builder(JobKind.EXEC_FILE_GROUP).build()).jobId();
    LeaseRequest plain = LeaseRequest.of("w1", Set.of(JobKind.EXEC_FILE_GROUP), LEASE).withMaxJobs(10);

    List<LeaseGrant> got = jobs().lease(plain);
    assertThat(got).extracting(g -> g.job().id()).containsExactly(free);
    assertThat(jobs().lease(plain.withExecutorIds(Set.of("java-capture")))).isEmpty();
    List<LeaseGrant> pinnedGrant = jobs().lease(plain.withExecutorIds(Set.of("java-capture", "rust-capture")));
    assertThat(pinnedGrant).extracting(g -> g.job().id()).containsExactly(pinned);
  }

  @Test
  void unpinnedJobsAreStillFoundByPinnedRequests() {
    String free = jobs().enqueue(JobSpec.builder(JobKind.EXEC_FILE_GROUP).build()).jobId();
    LeaseRequest req = LeaseRequest.of("w1", Set.of(JobKind.EXEC_FILE_GROUP), LEASE).withExecutorIds(Set.of("x"));
    assertThat(leaseOnly(req).job().id()).isEqualTo(free);
  }

  @Test
  void filtersByKindClassAndLaneWithWildcard() {
    String gpuJob = jobs().enqueue(JobSpec.builder(JobKind.EXEC_FILE_GROUP).executionClass("gpu").lane("east")
        .build()).jobId();
    jobs().enqueue(JobSpec.builder(JobKind.PLAN_TABLE).build());
    LeaseRequest base = LeaseRequest.of("w1", Set.of(JobKind.EXEC_FILE_GROUP), LEASE);
    assertThat(jobs().leaseOne(base.withExecutionClasses(Set.of("cpu")))).isEmpty();
    assertThat(jobs().leaseOne(base.withExecutionClasses(Set.of("gpu")).withLanes(Set.of("west")))).isEmpty();
    assertThat(leaseOnly(base.withExecutionClasses(Set.of("gpu")).withLanes(Set.of("*"))).job().id())
        .isEqualTo(gpuJob);
    assertThat(jobs().leaseOne(base)).isEmpty(); // the PLAN_TABLE job is not a file group
  }

  @Test
  void laneKeyAllowsOneRunningJobAtATime() {
    String a = jobs().enqueue(JobSpec.builder(JobKind.PLAN_TABLE).laneKey("table:t1").build()).jobId();
    String b = jobs().enqueue(JobSpec.builder(JobKind.PLAN_TABLE).laneKey("table:t1").build()).jobId();
    String c = jobs().enqueue(JobSpec.builder(JobKind.PLAN_TABLE).laneKey("table:t2").build()).jobId();
    LeaseRequest req = LeaseRequest.of("w1", Set.of(JobKind.PLAN_TABLE), LEASE).withMaxJobs(10);

    List<LeaseGrant> first = jobs().lease(req);
    assertThat(first).extracting(g -> g.job().id()).containsExactly(a, c);
    assertThat(jobs().lease(req)).isEmpty();
    LeaseGrant ga = first.get(0);
    jobs().complete(a, ga.epoch(), new Completion.Succeeded(null));
    assertThat(jobs().lease(req)).extracting(g -> g.job().id()).containsExactly(b);
  }

  @Test
  void dedupeKeyIsHonouredOnlyWhileTheJobIsLive() {
    JobSpec spec = JobSpec.builder(JobKind.BUILD).dedupeKey("change-7").build();
    var first = jobs().enqueue(spec);
    var dup = jobs().enqueue(spec);
    assertThat(first.created()).isTrue();
    assertThat(dup.created()).isFalse();
    assertThat(dup.jobId()).isEqualTo(first.jobId());
    // a different kind does not collide
    assertThat(jobs().enqueue(JobSpec.builder(JobKind.PLAN_TABLE).dedupeKey("change-7").build()).created()).isTrue();

    LeaseGrant g = leaseOnly(anyBuild("w1"));
    assertThat(jobs().enqueue(spec).jobId()).isEqualTo(first.jobId());
    jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
    var afterTerminal = jobs().enqueue(spec);
    assertThat(afterTerminal.created()).isTrue();
    assertThat(afterTerminal.jobId()).isNotEqualTo(first.jobId());
  }

  @Test
  void retryableFailuresBackOffExponentiallyThenFailAtMaxAttempts() {
    String id = jobs().enqueue(build()).jobId(); // max 3 attempts, backoff 1s, 2s
    LeaseGrant a1 = leaseOnly(anyBuild("w1"));
    assertThat(jobs().complete(id, a1.epoch(), new Completion.Failed("boom 1", Disposition.RETRYABLE)).state())
        .isEqualTo(JobState.QUEUED);
    assertThat(jobs().get(id).runAfter()).isEqualTo(T0.plusSeconds(1));
    assertThat(jobs().leaseOne(anyBuild("w1"))).isEmpty();

    clock.advance(Duration.ofSeconds(1));
    LeaseGrant a2 = leaseOnly(anyBuild("w1"));
    assertThat(a2.job().attempts()).isEqualTo(2);
    jobs().complete(id, a2.epoch(), new Completion.Failed("boom 2", Disposition.RETRYABLE));
    assertThat(jobs().get(id).runAfter()).isEqualTo(T0.plusSeconds(3));
    clock.advance(Duration.ofMillis(1999));
    assertThat(jobs().leaseOne(anyBuild("w1"))).isEmpty();
    clock.advance(Duration.ofMillis(1));

    LeaseGrant a3 = leaseOnly(anyBuild("w1"));
    var last = jobs().complete(id, a3.epoch(), new Completion.Failed("boom 3", Disposition.RETRYABLE));
    assertThat(last.state()).isEqualTo(JobState.FAILED);
    assertThat(jobs().get(id).lastError()).contains("boom 3").contains("3 attempts");
  }

  @Test
  void terminalFailureNeverRetries() {
    String id = jobs().enqueue(build()).jobId();
    LeaseGrant g = leaseOnly(anyBuild("w1"));
    assertThat(jobs().complete(id, g.epoch(), new Completion.Failed("bad input", Disposition.TERMINAL)).state())
        .isEqualTo(JobState.FAILED);
    assertThat(jobs().get(id).attempts()).isEqualTo(1);
  }

  @Test
  void waitingOnADependencyDoesNotConsumeAnAttempt() {
    String id = jobs().enqueue(JobSpec.builder(JobKind.BUILD).maxAttempts(1).build()).jobId();
    for (int i = 0; i < 3; i++) {
      LeaseGrant g = leaseOnly(anyBuild("w1"));
      assertThat(jobs().complete(id, g.epoch(), new Completion.Failed("dep not ready",
          Disposition.WAITING_ON_DEPENDENCY)).state()).isEqualTo(JobState.QUEUED);
      assertThat(jobs().get(id).attempts()).isZero();
      assertThat(jobs().get(id).runAfter()).isEqualTo(clock.instant().plus(TEST_RETRY.dependencyWait()));
      clock.advance(TEST_RETRY.dependencyWait());
    }
    LeaseGrant g = leaseOnly(anyBuild("w1"));
    assertThat(jobs().complete(id, g.epoch(), new Completion.Succeeded(null)).state()).isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void resultReplayReturnsTheStoredAnswerAndADifferentPayloadIsRefused() {
    String id = jobs().enqueue(build()).jobId();
    LeaseGrant g = leaseOnly(anyBuild("w1"));
    byte[] request = "stats for f1".getBytes(StandardCharsets.UTF_8);
    int[] effects = {0};
    ResultEffect effect = (tx, job) -> {
      effects[0]++;
      return ("accepted " + effects[0]).getBytes(StandardCharsets.UTF_8);
    };
    var first = jobs().recordResult(id, g.epoch(), id + ":success", request, effect);
    var replay = jobs().recordResult(id, g.epoch(), id + ":success", request, effect);
    assertThat(first.replayed()).isFalse();
    assertThat(replay.replayed()).isTrue();
    assertThat(new String(replay.response(), StandardCharsets.UTF_8)).isEqualTo("accepted 1");
    assertThat(effects[0]).isEqualTo(1);

    assertThatThrownBy(() -> jobs().recordResult(id, g.epoch(), id + ":success",
        "different".getBytes(StandardCharsets.UTF_8), effect))
        .isInstanceOf(IdempotencyMismatchException.class).hasMessageContaining(id + ":success");
    assertThat(effects[0]).isEqualTo(1);
  }

  @Test
  void firstResultNeedsTheLiveLeaseButAReplayDoesNot() {
    String id = jobs().enqueue(build()).jobId();
    LeaseGrant g = leaseOnly(anyBuild("w1"));
    byte[] req = {1, 2, 3};
    jobs().recordResult(id, g.epoch(), "r1", req, new byte[] {9});
    jobs().complete(id, g.epoch(), new Completion.Succeeded(null));
    assertThat(jobs().recordResult(id, g.epoch(), "r1", req, new byte[] {0}).response()).containsExactly(9);
    assertThatThrownBy(() -> jobs().recordResult(id, g.epoch(), "r2", req, new byte[] {0}))
        .isInstanceOf(LeaseLostException.class);
    assertThatThrownBy(() -> jobs().recordResult(id, "not-an-epoch", "r3", req, new byte[] {0}))
        .isInstanceOf(LeaseLostException.class);
  }

  @Test
  void completionsSharingOneStatementAreAnsweredOneByOne() {
    for (int i = 0; i < 4; i++) {
      jobs().enqueue(build());
    }
    List<LeaseGrant> g = jobs().lease(anyBuild("w1").withMaxJobs(4));
    assertThat(g).hasSize(4);
    jobs().complete(g.get(3).job().id(), g.get(3).epoch(), new Completion.Succeeded(null));
    Completion ok = new Completion.Succeeded(null);
    List<JobCompletion.Request> requests = List.of(
        new JobCompletion.Request(g.get(0).job().id(), g.get(0).epoch(), ok),
        new JobCompletion.Request(g.get(1).job().id(), "stale-epoch", ok),
        new JobCompletion.Request(g.get(2).job().id(), g.get(2).epoch(),
            new Completion.Failed("flaky", Disposition.RETRYABLE)),
        new JobCompletion.Request(g.get(3).job().id(), g.get(3).epoch(), ok), // a replay
        new JobCompletion.Request("no-such-job", "e", ok),
        new JobCompletion.Request(g.get(0).job().id(), "", ok)); // bad input, refused before reading

    var answers = ledger.transact(tx -> JobCompletion.completeEach(tx, jobs().retryPolicy(), requests));

    assertThat(answers.get(0).valueOrThrow().state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(answers.get(1).refusal()).isInstanceOf(LeaseLostException.class);
    assertThat(answers.get(2).valueOrThrow().state()).isEqualTo(JobState.QUEUED);
    assertThat(answers.get(3).valueOrThrow().replayed()).isTrue();
    assertThat(answers.get(4).refusal()).isInstanceOf(JobErrors.JobNotFoundException.class);
    assertThat(answers.get(5).refusal()).isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease_epoch");
    assertThat(jobs().get(g.get(0).job().id()).state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(jobs().get(g.get(1).job().id()).state()).as("a refused request writes nothing").isEqualTo(JobState.RUNNING);
    assertThat(jobs().get(g.get(2).job().id()).state()).isEqualTo(JobState.QUEUED);
  }

  @Test
  void twoClaimsOnOneJobAreNotShared() {
    jobs().enqueue(build());
    LeaseGrant g = leaseOnly(anyBuild("w1"));
    Completion ok = new Completion.Succeeded(null);
    var twice = List.of(new JobCompletion.Request(g.job().id(), g.epoch(), ok),
        new JobCompletion.Request(g.job().id(), g.epoch(), ok));
    // group commit falls back to running each alone when the shared run refuses like this
    assertThatThrownBy(() -> ledger.transact(tx -> JobCompletion.completeEach(tx, jobs().retryPolicy(), twice)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("twice");
    assertThat(jobs().get(g.job().id()).state()).isEqualTo(JobState.RUNNING);
  }

  /** Enough queued jobs that PostgreSQL's unanalysed estimate chose to sort them all (30,000 did not). */
  private static final int QUEUED_FOR_PLAN = 40_000;

  @Test
  void aLeaseWalksTheReadyIndexWhateverTheStatistics() {
    // Without statistics both planners chose the (kind, state) index and sorted every queued row for each
    // lease, so leasing slowed as the queue grew (SQLite 774 jobs/s on 20,000 queued; PostgreSQL 55 ms a
    // lease on 37,000). The plan must walk the partial ready index, already in lease order, and stop at
    // the limit.
    List<JobSpec> specs = new java.util.ArrayList<>();
    for (int i = 0; i < QUEUED_FOR_PLAN; i++) {
      specs.add(build());
    }
    jobs().enqueueAll(specs);
    LeaseRequest req = anyBuild("w").withMaxJobs(8);
    String sql = JobLeasing.leaseSql(ledger.dialect(), req);
    boolean sqlite = ledger.dialect() == dev.conveyor.ledger.Dialect.SQLITE;
    List<String> plan = ledger.transact(tx -> tx.query((sqlite ? "EXPLAIN QUERY PLAN " : "EXPLAIN ") + sql,
        rs -> rs.getString(sqlite ? 4 : 1), JobLeasing.leaseArgs(tx.nowMillis(), req).toArray()));
    String all = String.join("\n", plan);
    assertThat(all).contains(sqlite ? "USING INDEX jobs_ready" : "Index Scan using jobs_ready");
    assertThat(all).doesNotContain(sqlite ? "TEMP B-TREE" : "Sort");
  }

  @Test
  void leasesOfOneBatchShareAQueryAndNeverAJob() {
    for (int i = 0; i < 10; i++) {
      jobs().enqueue(build());
    }
    jobs().enqueue(JobSpec.builder(JobKind.BUILD).laneKey("repo-a").build());
    jobs().enqueue(JobSpec.builder(JobKind.BUILD).laneKey("repo-a").build());
    LeaseRequest three = anyBuild("w1").withMaxJobs(3);
    LeaseRequest five = anyBuild("w2").withMaxJobs(5);
    LeaseRequest other = LeaseRequest.of("w3", java.util.Set.of(JobKind.EXEC_FILE_GROUP), java.time.Duration.ofMinutes(1))
        .withMaxJobs(4);
    LeaseRequest rest = anyBuild("w4").withMaxJobs(20);
    List<List<Outcomes.LeaseGrant>> granted = ledger.transact(tx -> JobLeasing.leaseEach(tx,
        List.of(three, five, other, rest)).stream().map(dev.conveyor.ledger.Coalesced.Answer::valueOrThrow).toList());
    assertThat(granted.get(0)).hasSize(3).allSatisfy(g -> assertThat(g.job().leaseOwner()).isEqualTo("w1"));
    assertThat(granted.get(1)).hasSize(5).allSatisfy(g -> assertThat(g.job().leaseOwner()).isEqualTo("w2"));
    assertThat(granted.get(2)).isEmpty(); // other filters: its own query, and nothing matches
    // the rest: the remaining jobs, but only one of the two sharing a lane key (the lane is exclusive)
    assertThat(granted.get(3)).hasSize(3);
    List<String> ids = granted.stream().flatMap(List::stream).map(g -> g.job().id()).toList();
    assertThat(ids).hasSize(11).doesNotHaveDuplicates();
    for (List<Outcomes.LeaseGrant> grants : granted) {
      for (Outcomes.LeaseGrant g : grants) {
        Job stored = jobs().get(g.job().id());
        assertThat(stored.state()).isEqualTo(JobState.RUNNING);
        assertThat(stored.leaseEpoch()).isEqualTo(g.epoch());
        assertThat(stored.leaseOwner()).isEqualTo(g.job().leaseOwner());
      }
    }
    assertThat(jobs().lease(anyBuild("w5").withMaxJobs(10))).isEmpty(); // the lane's other job waits for it
  }

  @Test
  void asyncHolderCallsAnswerAsTheirBlockingTwins() throws Exception {
    jobs().enqueue(build());
    List<Outcomes.LeaseGrant> grants = jobs().leaseAsync(anyBuild("w1")).get(10, java.util.concurrent.TimeUnit.SECONDS);
    assertThat(grants).hasSize(1);
    Outcomes.LeaseGrant g = grants.get(0);
    assertThat(jobs().startAsync(g.job().id(), g.epoch()).get().cancellationRequested()).isFalse();
    assertThat(jobs().renewAsync(g.job().id(), g.epoch(), java.time.Duration.ofMinutes(2)).get().renewed()).isTrue();
    var stale = jobs().completeAsync(g.job().id(), "stale-epoch", new Completion.Succeeded(null), null);
    assertThatThrownBy(stale::get).hasCauseInstanceOf(JobErrors.LeaseLostException.class);
    assertThat(jobs().completeAsync(g.job().id(), g.epoch(), new Completion.Succeeded(null), null).get().state())
        .isEqualTo(JobState.SUCCEEDED);
  }

  @Test
  void overlappingFiltersInOneBatchNeverGrantAJobTwice() {
    for (int i = 0; i < 3; i++) {
      jobs().enqueue(build());
    }
    LeaseRequest builds = anyBuild("w1").withMaxJobs(3);
    LeaseRequest anything = LeaseRequest.of("w2", Set.of(), LEASE).withMaxJobs(3); // no kind filter: overlaps
    List<List<LeaseGrant>> granted = ledger.transact(tx -> JobLeasing.leaseEach(tx, List.of(builds, anything))
        .stream().map(dev.conveyor.ledger.Coalesced.Answer::valueOrThrow).toList());
    List<String> ids = granted.stream().flatMap(List::stream).map(g -> g.job().id()).toList();
    assertThat(ids).hasSize(3).doesNotHaveDuplicates();
    assertThat(granted.get(0)).hasSize(3);
    assertThat(granted.get(1)).isEmpty();
  }
}
