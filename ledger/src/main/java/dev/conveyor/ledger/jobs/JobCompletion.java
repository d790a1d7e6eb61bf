package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Hashing;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.Completion.Cancelled;
import dev.conveyor.ledger.jobs.Completion.Failed;
import dev.conveyor.ledger.jobs.Completion.Succeeded;
import dev.conveyor.ledger.jobs.JobErrors.IdempotencyMismatchException;
import dev.conveyor.ledger.jobs.JobErrors.InvalidJobStateException;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.Outcomes.Completed;
import dev.conveyor.ledger.jobs.JobErrors.JobNotFoundException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The terminal (or retry) transition a lease holder asks for. A holder whose lease expired but
 * was not yet reclaimed may still complete: its work is done and nobody else holds the job.
 * Repeating a completion under the same epoch with the same outcome answers the stored state.
 */
final class JobCompletion {
  private JobCompletion() {}

  /** One holder's claim on one job: the job id and the epoch it was leased under. */
  record Holder(String jobId, String epoch) {}

  static Completed complete(Tx tx, RetryPolicy policy, String jobId, String epoch, Completion completion)
      throws SQLException {
    return completeAll(tx, policy, List.of(new Holder(jobId, epoch)), completion).get(0);
  }

  /**
   * Completes several held jobs with one read and one batched update; a worker that leases in
   * batches completes in batches. All or nothing: one stale holder refuses the whole batch.
   */
  static List<Completed> completeAll(Tx tx, RetryPolicy policy, List<Holder> holders, Completion completion)
      throws SQLException {
    for (Holder h : holders) {
      JobRows.requireId("job_id", h.jobId());
      JobRows.requireId("lease_epoch", h.epoch());
    }
    if (completion == null) {
      throw new IllegalArgumentException("completion must be given (succeeded, failed or cancelled)");
    }
    String hash = fingerprint(completion);
    Map<String, Job> jobs = JobRows.findAll(tx, holders.stream().map(Holder::jobId).toList());
    List<Completed> out = new ArrayList<>(holders.size());
    List<Job> changed = new ArrayList<>();
    List<Object[]> args = new ArrayList<>();
    List<Job> nowTerminal = new ArrayList<>();
    List<Job> abandoned = new ArrayList<>();
    for (Holder h : holders) {
      Job job = jobs.get(h.jobId());
      if (job == null) {
        throw new JobNotFoundException(h.jobId());
      }
      String epoch = h.epoch();
      if (epoch.equals(job.lastCompletionEpoch())) {
        if (hash.equals(job.lastCompletionHash())) {
          out.add(new Completed(job.state(), true));
          continue;
        }
        throw new IdempotencyMismatchException("job " + job.id() + " was already completed under lease " + epoch
            + " with a different outcome");
      }
      if (job.state() == JobState.WAITING && epoch.equals(job.leaseEpoch())) {
        // A planner that fanned out reports success; its children decide the outcome.
        if (!(completion instanceof Succeeded)) {
          throw new InvalidJobStateException("job " + job.id() + " already planned its children; cancel it instead");
        }
        JobRows.cas(tx, job, "last_completion_epoch = ?, last_completion_hash = ?", epoch, hash);
        out.add(new Completed(JobState.WAITING, false));
        continue;
      }
      if (!job.heldWith(epoch)) {
        throw new LeaseLostException(job.id(), JobLeasing.staleReason(job, epoch));
      }
      if (job.fanningOut() && completion instanceof Succeeded && job.state() != JobState.CANCELLING) {
        throw new InvalidJobStateException("job " + job.id() + " has not planned its last batch of children;"
            + " it cannot succeed before that");
      }
      Transition t = transition(job, completion, policy, tx);
      changed.add(job);
      args.add(new Object[] {t.state, t.attempts, t.runAfterMillis, t.state.isTerminal() ? tx.nowMillis() : null,
          t.error, epoch, hash});
      if (t.state.isTerminal() && job.parentId() != null) {
        nowTerminal.add(job);
      }
      if (t.state.isTerminal() && job.fanningOut()) {
        abandoned.add(job);
      }
      out.add(new Completed(t.state, false));
    }
    JobRows.casAll(tx, "state = ?, attempts = ?, run_after = ?, finished_at = ?, last_error = ?,"
        + " lease_epoch = NULL, lease_owner = NULL, lease_expires_at = NULL,"
        + " last_completion_epoch = ?, last_completion_hash = ?", changed, args);
    for (Job job : nowTerminal) {
      ParentResolution.afterChildTerminal(tx, job);
    }
    for (Job job : abandoned) {
      abandonChildren(tx, job.id());
    }
    return out;
  }

  /** A planner that ended before its last batch of children: the children it did plan are cancelled. */
  static void abandonChildren(Tx tx, String jobId) throws SQLException {
    JobCancellation.cancel(tx, jobId, "its planner ended before planning all its children");
  }

  private record Transition(JobState state, int attempts, long runAfterMillis, String error) {}

  private static Transition transition(Job job, Completion completion, RetryPolicy policy, Tx tx) {
    long now = tx.nowMillis();
    if (job.state() == JobState.CANCELLING) {
      return new Transition(JobState.CANCELLED, job.attempts(), now, "cancelled");
    }
    if (completion instanceof Succeeded) {
      return new Transition(JobState.SUCCEEDED, job.attempts(), now, null);
    }
    if (completion instanceof Cancelled c) {
      return new Transition(JobState.CANCELLED, job.attempts(), now, c.message());
    }
    Failed f = (Failed) completion;
    return switch (f.disposition()) {
      case TERMINAL -> new Transition(JobState.FAILED, job.attempts(), now, f.message());
      case RETRYABLE -> job.attempts() >= job.maxAttempts()
          ? new Transition(JobState.FAILED, job.attempts(), now,
              f.message() + " (gave up after " + job.attempts() + " attempts)")
          : new Transition(JobState.QUEUED, job.attempts(),
              now + policy.backoff(job.attempts()).toMillis(), f.message());
      case WAITING_ON_DEPENDENCY -> new Transition(JobState.QUEUED, Math.max(0, job.attempts() - 1),
          now + policy.dependencyWait().toMillis(), f.message());
    };
  }

  private static String fingerprint(Completion c) {
    var digest = Hashing.sha256();
    Hashing.update(digest, c.getClass().getSimpleName());
    Hashing.update(digest, c.message());
    if (c instanceof Failed f) {
      Hashing.update(digest, f.disposition().name());
    }
    return java.util.HexFormat.of().formatHex(digest.digest());
  }
}
