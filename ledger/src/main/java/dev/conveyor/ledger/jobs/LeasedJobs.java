package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Coalesced;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.JobErrors.JobNotFoundException;
import dev.conveyor.ledger.jobs.Outcomes.Completed;
import dev.conveyor.ledger.jobs.Outcomes.Enqueued;
import dev.conveyor.ledger.jobs.Outcomes.FannedOut;
import dev.conveyor.ledger.jobs.Outcomes.JobTree;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.jobs.Outcomes.LeaseStatus;
import dev.conveyor.ledger.jobs.Outcomes.RecordedResult;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * Leased jobs: one live owner at a time, fenced by a lease epoch. Each method runs in its own
 * transaction; the {@code Tx}-taking variants compose with a caller's transaction so a state
 * change and what it causes commit together.
 */
public final class LeasedJobs {
  private final Ledger ledger;
  private final RetryPolicy policy;

  private final JobWakeups ready;

  /** Concurrent completions share one read and one batched update (see {@link Coalesced}). */
  private final Coalesced<JobCompletion.Request, Completed> completer;
  /** Concurrent leases with the same filters share one candidates' query and one batched update. */
  private final Coalesced<LeaseRequest, List<LeaseGrant>> leaser = JobLeasing::leaseEach;

  public LeasedJobs(Ledger ledger, RetryPolicy policy) {
    this.ledger = ledger;
    this.policy = policy;
    this.ready = new JobWakeups(ledger);
    this.completer = (tx, requests) -> JobCompletion.completeEach(tx, policy, requests);
  }

  public RetryPolicy retryPolicy() {
    return policy;
  }

  /** Signalled after a commit of this process made jobs ready; idle leasers wait on it between polls. */
  public JobWakeups ready() {
    return ready;
  }

  // --- enqueue and read -------------------------------------------------------------------

  public Enqueued enqueue(JobSpec spec) {
    return ledger.transact(tx -> enqueue(tx, spec));
  }

  public Enqueued enqueue(Tx tx, JobSpec spec) throws java.sql.SQLException {
    if (spec.delay().isZero()) {
      JobWakeups.announce(tx, spec.kind()); // a delayed one is announced for when it is due
    }
    return JobQueue.enqueue(tx, spec, null, null, 0);
  }

  /** Enqueues all or nothing. */
  public List<Enqueued> enqueueAll(List<JobSpec> specs) {
    return ledger.transact(tx -> {
      List<Enqueued> out = new ArrayList<>(specs.size());
      for (JobSpec spec : specs) {
        out.add(enqueue(tx, spec));
      }
      return out;
    });
  }

  public Optional<Job> find(String jobId) {
    JobRows.requireId("job_id", jobId);
    return ledger.read(tx -> JobRows.find(tx, jobId));
  }

  public Job get(String jobId) {
    return find(jobId).orElseThrow(() -> new JobNotFoundException(jobId));
  }

  public Job get(Tx tx, String jobId) throws java.sql.SQLException {
    return JobRows.require(tx, jobId);
  }

  public List<Job> children(String jobId) {
    return ledger.read(tx -> JobRows.children(tx, jobId));
  }

  public List<Job> list(Set<JobState> states, Set<JobKind> kinds, boolean rootsOnly, int limit, String afterId) {
    JobQueue.Query q = new JobQueue.Query(states, kinds, rootsOnly, limit, afterId);
    return ledger.read(tx -> JobQueue.list(tx, q));
  }

  public JobTree tree(String jobId) {
    JobRows.requireId("job_id", jobId);
    return ledger.read(tx -> JobQueue.tree(tx, jobId));
  }

  // --- the holder's protocol --------------------------------------------------------------

  /**
   * Leases up to {@code request.maxJobs()} jobs. This and the other holder calls below (start, renew,
   * progress, complete) go through the ledger's group commit: calls made at the same time by many
   * threads share one transaction, each answered as if it had run alone.
   */
  public List<LeaseGrant> lease(LeaseRequest request) {
    return ledger.transactGrouped(leaser, request);
  }

  /** As {@link #lease}, without waiting (see {@link Ledger#transactGroupedAsync(Tx.Work)}). */
  public java.util.concurrent.CompletableFuture<List<LeaseGrant>> leaseAsync(LeaseRequest request) {
    return ledger.transactGroupedAsync(leaser, request);
  }

  public Optional<LeaseGrant> leaseOne(LeaseRequest request) {
    List<LeaseGrant> grants = lease(request.withMaxJobs(1));
    return grants.isEmpty() ? Optional.empty() : Optional.of(grants.get(0));
  }

  public Instant start(String jobId, String epoch) {
    return ledger.transactGrouped(tx -> JobLeasing.start(tx, jobId, epoch));
  }

  /** Extends a live lease; {@code renewed=false} when the epoch is stale or the lease already lapsed. */
  public LeaseStatus renew(String jobId, String epoch, Duration extension) {
    requirePositive(extension);
    return ledger.transactGrouped(tx -> JobLeasing.renew(tx, jobId, epoch, extension));
  }

  /** Records monotonic progress and renews the lease; refused with LeaseLost for a stale holder. */
  /**
   * Records the progress a result states, in the transaction that stores the result, so a finished job never
   * shows the last heartbeat's count (a worker reports progress between beats; the result is exact).
   */
  public void recordProgress(Tx tx, String jobId, String epoch, JobProgress progress) throws java.sql.SQLException {
    JobLeasing.recordProgress(tx, jobId, epoch, progress);
  }

  public LeaseStatus progress(String jobId, String epoch, JobProgress progress, Duration extension) {
    requirePositive(extension);
    return ledger.transactGrouped(tx -> JobLeasing.progress(tx, jobId, epoch, progress, extension));
  }

  public boolean cancellationRequested(String jobId, String epoch) {
    return ledger.transact(tx -> JobLeasing.cancellationRequested(tx, jobId, epoch));
  }

  public RecordedResult recordResult(String jobId, String epoch, String resultId, byte[] canonicalRequest,
      ResultEffect effect) {
    return ledger.transact(tx -> JobResults.record(tx, jobId, epoch, resultId, canonicalRequest, effect));
  }

  /** Records a result whose only effect is storing {@code response}. */
  public RecordedResult recordResult(String jobId, String epoch, String resultId, byte[] canonicalRequest,
      byte[] response) {
    return recordResult(jobId, epoch, resultId, canonicalRequest, (tx, job) -> response);
  }

  public Optional<byte[]> findResult(String jobId, String resultId) {
    return ledger.transact(tx -> JobResults.find(tx, jobId, resultId));
  }

  /**
   * Completes one held job. Concurrent callers share transactions (group commit); each is answered
   * with its own outcome, exactly as if it had committed alone.
   */
  public Completed complete(String jobId, String epoch, Completion completion) {
    return ledger.transactGrouped(completer, new JobCompletion.Request(jobId, epoch, completion));
  }

  /**
   * As {@link #complete(String, String, Completion)}, with {@code check} decided first inside the shared
   * transaction: a refusal answers this caller alone. The worker protocol's completion uses it.
   */
  public Completed complete(String jobId, String epoch, Completion completion, CompletionCheck check) {
    return ledger.transactGrouped(completer, new JobCompletion.Request(jobId, epoch, completion, check));
  }

  /** As {@link #complete(String, String, Completion, CompletionCheck)}, without waiting. */
  public java.util.concurrent.CompletableFuture<Completed> completeAsync(String jobId, String epoch,
      Completion completion, CompletionCheck check) {
    return ledger.transactGroupedAsync(completer, new JobCompletion.Request(jobId, epoch, completion, check));
  }

  /** Marks a held job started and reads its cancellation flag, in one transaction, without waiting. */
  public java.util.concurrent.CompletableFuture<Outcomes.Started> startAsync(String jobId, String epoch) {
    return ledger.transactGroupedAsync(tx -> new Outcomes.Started(JobLeasing.start(tx, jobId, epoch),
        JobLeasing.cancellationRequested(tx, jobId, epoch)));
  }

  /** As {@link #renew}, without waiting. */
  public java.util.concurrent.CompletableFuture<LeaseStatus> renewAsync(String jobId, String epoch,
      Duration extension) {
    requirePositive(extension);
    return ledger.transactGroupedAsync(tx -> JobLeasing.renew(tx, jobId, epoch, extension));
  }

  /** As {@link #progress}, without waiting. */
  public java.util.concurrent.CompletableFuture<LeaseStatus> progressAsync(String jobId, String epoch,
      JobProgress progress, Duration extension) {
    requirePositive(extension);
    return ledger.transactGroupedAsync(tx -> JobLeasing.progress(tx, jobId, epoch, progress, extension));
  }

  public Completed complete(Tx tx, String jobId, String epoch, Completion completion) throws java.sql.SQLException {
    return JobCompletion.complete(tx, policy, jobId, epoch, completion);
  }

  /** A batch of completions in one transaction: the fast path for workers that lease in batches. */
  public List<Completed> completeAll(List<LeaseGrant> grants, Completion completion) {
    List<JobCompletion.Holder> holders =
        grants.stream().map(g -> new JobCompletion.Holder(g.job().id(), g.epoch())).toList();
    return ledger.transact(tx -> JobCompletion.completeAll(tx, policy, holders, completion));
  }

  public FannedOut fanOut(String parentId, String epoch, List<JobSpec> children) {
    return ledger.transact(tx -> {
      JobWakeups.announce(tx, kinds(children));
      return JobFanOut.fanOut(tx, parentId, epoch, children);
    });
  }

  /**
   * One batch of a fan-out too large for one transaction (batches numbered from 0, in order; the
   * {@code last} one moves the planner to WAITING and alone may hold continuation children). A
   * batch already stored is answered as a replay if it has the same children and refused otherwise.
   */
  public FannedOut fanOutBatch(String parentId, String epoch, int batchIndex, List<JobSpec> children, boolean last) {
    return ledger.transact(tx -> {
      JobWakeups.announce(tx, kinds(children));
      return JobFanOut.fanOutBatch(tx, parentId, epoch, batchIndex, children, last);
    });
  }

  /**
   * Refuses with LeaseLost unless {@code epoch} still holds {@code jobId}; a lease that ran out but was not taken
   * over still holds it, as for results and completions.
   */
  public void requireEpoch(Tx tx, String jobId, String epoch) throws java.sql.SQLException {
    JobLeasing.requireEpoch(tx, jobId, epoch);
  }

  /** Refuses with LeaseLost unless {@code epoch} holds {@code jobId} with an unexpired lease (fences a write). */
  public void requireHeld(Tx tx, String jobId, String epoch) throws java.sql.SQLException {
    JobLeasing.requireLive(tx, jobId, epoch);
  }

  // --- control ----------------------------------------------------------------------------

  /** Cancels a job and its descendants; answers the job's state afterwards. */
  public JobState cancel(String jobId, String reason) {
    JobRows.requireId("job_id", jobId);
    return ledger.transact(tx -> JobCancellation.cancel(tx, jobId, reason));
  }

  /** Cancels a job and its descendants in the caller's transaction (with the state change that caused it). */
  public JobState cancel(Tx tx, String jobId, String reason) throws java.sql.SQLException {
    JobRows.requireId("job_id", jobId);
    return JobCancellation.cancel(tx, jobId, reason);
  }

  /**
   * Gives a held lease back without counting the attempt (the holder is shutting down); answers
   * false when {@code epoch} no longer holds the job.
   */
  public boolean handBack(String jobId, String epoch, String reason) {
    JobRows.requireId("job_id", jobId);
    return ledger.transact(tx -> {
      JobWakeups.announce(tx);
      return JobHandBack.handBack(tx, jobId, epoch, reason);
    });
  }

  /**
   * Parks a held job until {@code until} without counting the attempt: it waits on something outside the
   * ledger, and {@link #wake} makes it due sooner. False when {@code epoch} no longer holds the job.
   */
  public boolean park(Tx tx, String jobId, String epoch, Instant until, String note) throws java.sql.SQLException {
    JobRows.requireId("job_id", jobId);
    return JobHandBack.park(tx, jobId, epoch, until, note);
  }

  /** Makes a parked job due now, in the caller's transaction; false when the job is not queued. */
  public boolean wake(Tx tx, String jobId) throws java.sql.SQLException {
    JobRows.requireId("job_id", jobId);
    JobWakeups.announce(tx);
    return JobHandBack.wake(tx, jobId);
  }

  /** Reclaims up to {@code limit} expired leases; answers how many it reclaimed. */
  public int reapExpired(int limit) {
    return ledger.transact(tx -> {
      int reaped = JobReaper.reap(tx, policy, limit);
      if (reaped > 0) {
        JobWakeups.announce(tx); // lanes and continuations may be free as well as the jobs requeued
      }
      return reaped;
    });
  }

  private static void requirePositive(Duration d) {
    if (d == null || d.isNegative() || d.isZero()) {
      throw new IllegalArgumentException("lease extension must be positive, got " + d);
    }
  }

  private static java.util.Set<JobKind> kinds(List<JobSpec> specs) {
    java.util.Set<JobKind> kinds = java.util.EnumSet.noneOf(JobKind.class);
    specs.forEach(s -> kinds.add(s.kind()));
    return kinds;
  }
}
