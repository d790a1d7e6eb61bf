package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Coalesced.Answer;
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
import java.util.Arrays;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The terminal (or retry) transition a lease holder asks for. A holder whose lease expired but
 * was not yet reclaimed may still complete: its work is done and nobody else holds the job.
 * Repeating a completion under the same epoch with the same outcome answers the stored state.
 */
final class JobCompletion {
  private JobCompletion() {}

  /** One holder's claim on one job: the job id and the epoch it was leased under. */
  record Holder(String jobId, String epoch) {}

  /** One caller's completion: which job, under which lease, with what outcome, and what must hold first. */
  record Request(String jobId, String epoch, Completion completion, CompletionCheck check) {
    Request(String jobId, String epoch, Completion completion) {
      this(jobId, epoch, completion, null);
    }
  }

  static Completed complete(Tx tx, RetryPolicy policy, String jobId, String epoch, Completion completion)
      throws SQLException {
    return completeEach(tx, policy, List.of(new Request(jobId, epoch, completion))).get(0).valueOrThrow();
  }

  /**
   * Completes several held jobs with one read and one batched update; a worker that leases in
   * batches completes in batches. All or nothing: one stale holder refuses the whole batch.
   */
  static List<Completed> completeAll(Tx tx, RetryPolicy policy, List<Holder> holders, Completion completion)
      throws SQLException {
    List<Request> requests = holders.stream().map(h -> new Request(h.jobId(), h.epoch(), completion)).toList();
    for (Request r : requests) {
      refusal(r).ifPresent(e -> {
        throw e;
      });
    }
    List<Answer<Completed>> answers = completeEach(tx, policy, requests);
    List<Completed> out = new ArrayList<>(answers.size());
    for (Answer<Completed> a : answers) {
      out.add(a.valueOrThrow()); // a refusal here comes before any write: decisions precede the update
    }
    return out;
  }

  /**
   * Completes the requests of many callers together: every request is decided from one read before
   * anything is written, a refused request (stale epoch, unknown job, a conflicting replay) is answered
   * alone and writes nothing, and the others commit with one batched update. The contract of {@link
   * Coalesced}; group commit uses it to share one statement among concurrent completions.
   */
  static List<Answer<Completed>> completeEach(Tx tx, RetryPolicy policy, List<Request> requests)
      throws SQLException {
    Answer<Completed>[] out = newAnswers(requests.size());
    List<String> ids = new ArrayList<>();
    Set<String> seen = new HashSet<>();
    for (int i = 0; i < requests.size(); i++) {
      Optional<RuntimeException> bad = refusal(requests.get(i));
      if (bad.isPresent()) {
        out[i] = Answer.refused(bad.get());
      } else if (!seen.add(requests.get(i).jobId())) {
        // two claims on one job in one batch: the second must see the first's write, so not shared
        throw new IllegalStateException("job " + requests.get(i).jobId() + " appears twice in one batch");
      } else {
        ids.add(requests.get(i).jobId());
      }
    }
    Map<String, Job> jobs = JobRows.findAll(tx, ids);
    List<Job> changed = new ArrayList<>();
    List<Object[]> args = new ArrayList<>();
    List<Job> marked = new ArrayList<>();
    List<Object[]> markArgs = new ArrayList<>();
    List<Job> nowTerminal = new ArrayList<>();
    List<Job> abandoned = new ArrayList<>();
    for (int i = 0; i < requests.size(); i++) {
      if (out[i] != null) {
        continue;
      }
      Request r = requests.get(i);
      Job job = jobs.get(r.jobId());
      if (job == null) {
        out[i] = Answer.refused(new JobNotFoundException(r.jobId()));
        continue;
      }
      String epoch = r.epoch();
      Completion completion = r.completion();
      String hash = fingerprint(completion);
      if (epoch.equals(job.lastCompletionEpoch())) {
        out[i] = hash.equals(job.lastCompletionHash()) ? Answer.of(new Completed(job.state(), true))
            : Answer.refused(new IdempotencyMismatchException("job " + job.id()
                + " was already completed under lease " + epoch + " with a different outcome"));
        continue;
      }
      if (job.state() == JobState.WAITING && epoch.equals(job.leaseEpoch())) {
        // A planner that fanned out reports success; its children decide the outcome.
        if (!(completion instanceof Succeeded)) {
          out[i] = Answer.refused(
              new InvalidJobStateException("job " + job.id() + " already planned its children; cancel it instead"));
        } else {
          marked.add(job);
          markArgs.add(new Object[] {epoch, hash});
          out[i] = Answer.of(new Completed(JobState.WAITING, false));
        }
        continue;
      }
      if (!job.heldWith(epoch)) {
        out[i] = Answer.refused(new LeaseLostException(job.id(), JobLeasing.staleReason(job, epoch)));
        continue;
      }
      if (r.check() != null) {
        Optional<RuntimeException> refused = r.check().refusal(tx, job, completion);
        if (refused.isPresent()) {
          out[i] = Answer.refused(refused.get());
          continue;
        }
      }
      if (job.fanningOut() && completion instanceof Succeeded && job.state() != JobState.CANCELLING) {
        out[i] = Answer.refused(new InvalidJobStateException("job " + job.id()
            + " has not planned its last batch of children; it cannot succeed before that"));
        continue;
      }
      Transition t = transition(job, completion, policy, tx);
      if (t.state == JobState.QUEUED) {
        JobWakeups.announce(tx, job.kind(), t.runAfterMillis); // a retry: due then
      } else if (job.laneKey() != null) {
        JobWakeups.announce(tx, job.kind()); // its lane (lane keys are per kind) is free for the next job
      }
      changed.add(job);
      args.add(new Object[] {t.state, t.attempts, t.runAfterMillis, t.state.isTerminal() ? tx.nowMillis() : null,
          t.error, epoch, hash});
      if (t.state.isTerminal() && job.parentId() != null) {
        nowTerminal.add(job);
      }
      if (t.state.isTerminal() && job.fanningOut()) {
        abandoned.add(job);
      }
      out[i] = Answer.of(new Completed(t.state, false));
    }
    if (!marked.isEmpty()) {
      JobRows.casAll(tx, "last_completion_epoch = ?, last_completion_hash = ?", marked, markArgs);
    }
    if (!changed.isEmpty()) {
      JobRows.casAll(tx, "state = ?, attempts = ?, run_after = ?, finished_at = ?, last_error = ?,"
          + " lease_epoch = NULL, lease_owner = NULL, lease_expires_at = NULL,"
          + " last_completion_epoch = ?, last_completion_hash = ?", changed, args);
    }
    for (Job job : nowTerminal) {
      ParentResolution.afterChildTerminal(tx, job);
    }
    for (Job job : abandoned) {
      abandonChildren(tx, job.id());
    }
    return Arrays.asList(out);
  }

  /** Bad input refused before the ledger is read. */
  private static Optional<RuntimeException> refusal(Request r) {
    try {
      JobRows.requireId("job_id", r.jobId());
      JobRows.requireId("lease_epoch", r.epoch());
    } catch (IllegalArgumentException e) {
      return Optional.of(e);
    }
    if (r.completion() == null) {
      return Optional.of(new IllegalArgumentException("completion must be given (succeeded, failed or cancelled)"));
    }
    return Optional.empty();
  }

  @SuppressWarnings("unchecked")
  private static Answer<Completed>[] newAnswers(int n) {
    return (Answer<Completed>[]) new Answer<?>[n];
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
