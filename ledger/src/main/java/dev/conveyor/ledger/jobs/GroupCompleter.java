package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.JobErrors.IdempotencyMismatchException;
import dev.conveyor.ledger.jobs.JobErrors.InvalidJobStateException;
import dev.conveyor.ledger.jobs.JobErrors.JobNotFoundException;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.Outcomes.Completed;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit for completions (after River's batch completer, without its background thread):
 * every caller queues its completion and then competes for the flush lock; whoever holds it commits
 * everything queued so far, up to {@link #MAX_BATCH}, in one transaction, and answers each caller
 * with its own outcome. While one transaction is in flight the next batch gathers, so a quiet ledger
 * adds no delay and a busy one pays one commit for many completions.
 *
 * <p>Per-call semantics are those of a completion in its own transaction: each is checked and applied
 * in turn, so a stale epoch, a replay or an unknown job answers only its caller (those refusals are
 * raised before the completion writes anything). Any other failure of the batch, once the ledger's own
 * transient retries are spent, runs its completions again one per transaction, so one bad call never
 * fails another.
 */
final class GroupCompleter {
  static final int MAX_BATCH = 256;

  private final Ledger ledger;
  private final RetryPolicy policy;
  private final ConcurrentLinkedQueue<Call> queue = new ConcurrentLinkedQueue<>();
  private final ReentrantLock flushing = new ReentrantLock();
  private final AtomicLong transactions = new AtomicLong();
  private final AtomicLong completions = new AtomicLong();

  GroupCompleter(Ledger ledger, RetryPolicy policy) {
    this.ledger = ledger;
    this.policy = policy;
  }

  record Call(String jobId, String epoch, Completion completion, CompletableFuture<Completed> answer) {}

  Completed complete(String jobId, String epoch, Completion completion) {
    return await(submit(jobId, epoch, completion));
  }

  /** Queues a completion; {@link #await} commits it (with whatever else is queued by then). */
  Call submit(String jobId, String epoch, Completion completion) {
    Call call = new Call(jobId, epoch, completion, new CompletableFuture<>());
    queue.add(call);
    return call;
  }

  Completed await(Call call) {
    while (!call.answer().isDone()) {
      flushing.lock();
      try {
        if (!call.answer().isDone()) {
          flush();
        }
      } finally {
        flushing.unlock();
      }
    }
    try {
      return call.answer().get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while completing job " + call.jobId(), e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      throw new IllegalStateException(e.getCause());
    }
  }

  /** Transactions committed and completions they carried, for a benchmark's per-job figure. */
  long transactions() {
    return transactions.get();
  }

  long completions() {
    return completions.get();
  }

  private void flush() {
    List<Call> batch = new ArrayList<>();
    for (Call c; batch.size() < MAX_BATCH && (c = queue.poll()) != null; ) {
      batch.add(c);
    }
    if (batch.isEmpty()) {
      return;
    }
    try {
      commit(batch);
    } catch (Throwable unexpected) {
      // no caller may wait forever: whatever the failure, every call of the batch gets an answer
      batch.forEach(c -> c.answer().completeExceptionally(unexpected));
      throw unexpected;
    }
  }

  private void commit(List<Call> batch) {
    List<Object> answers;
    try {
      answers = ledger.transact(tx -> {
        List<Object> out = new ArrayList<>(batch.size());
        for (Call c : batch) {
          try {
            out.add(JobCompletion.complete(tx, policy, c.jobId(), c.epoch(), c.completion()));
          } catch (LeaseLostException | IdempotencyMismatchException | InvalidJobStateException
              | JobNotFoundException | IllegalArgumentException refused) {
            out.add(refused);
          }
        }
        return out;
      });
      transactions.incrementAndGet();
      completions.addAndGet(batch.size());
    } catch (RuntimeException batchFailed) {
      if (batch.size() == 1) {
        batch.get(0).answer().completeExceptionally(batchFailed);
        return;
      }
      for (Call c : batch) {
        try {
          c.answer().complete(ledger.transact(tx -> JobCompletion.complete(tx, policy, c.jobId(), c.epoch(),
              c.completion())));
          transactions.incrementAndGet();
          completions.incrementAndGet();
        } catch (RuntimeException e) {
          c.answer().completeExceptionally(e);
        }
      }
      return;
    }
    for (int i = 0; i < batch.size(); i++) {
      if (answers.get(i) instanceof Completed done) {
        batch.get(i).answer().complete(done);
      } else {
        batch.get(i).answer().completeExceptionally((RuntimeException) answers.get(i));
      }
    }
  }
}
