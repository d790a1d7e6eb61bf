package dev.conveyor.ledger;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Group commit (after River's batch completer, without its background thread): each caller queues its
 * unit of work and competes for the flush lock; whoever holds it runs everything queued so far, up to
 * {@link #MAX_BATCH} units, in one transaction, and answers each caller with its own result. While one
 * transaction is in flight the next batch gathers, so a quiet ledger adds no delay and a busy one pays
 * one commit for many units.
 *
 * <p>Each caller sees what it would see from {@link Ledger#transact} alone. In a batch of several, every
 * unit runs inside its own savepoint: a unit that fails deterministically (a refusal, bad input, a
 * constraint) is rolled back to its savepoint, its after-commit actions dropped, and the failure goes
 * to its caller only. A transient failure (contention, a lost connection) fails the attempt, and the
 * ledger retries the whole batch as it retries any transaction; if the ledger stays unavailable every
 * caller of the batch gets that failure, as each would have alone.
 */
final class GroupCommit {
  static final int MAX_BATCH = 256;

  private final Ledger ledger;
  private final ConcurrentLinkedQueue<Call<?>> queue = new ConcurrentLinkedQueue<>();
  private final ReentrantLock flushing = new ReentrantLock();
  private final AtomicLong transactions = new AtomicLong();
  private final AtomicLong units = new AtomicLong();

  GroupCommit(Ledger ledger) {
    this.ledger = ledger;
  }

  static final class Call<T> {
    final Tx.Work<T> work;
    final CompletableFuture<Object> answer = new CompletableFuture<>();

    Call(Tx.Work<T> work) {
      this.work = work;
    }
  }

  <T> T transact(Tx.Work<T> work) {
    return await(submit(work));
  }

  /** Queues a unit; {@link #await} commits it, with whatever else is queued by then. */
  <T> Call<T> submit(Tx.Work<T> work) {
    Call<T> call = new Call<>(work);
    queue.add(call);
    return call;
  }

  @SuppressWarnings("unchecked")
  <T> T await(Call<T> call) {
    while (!call.answer.isDone()) {
      flushing.lock();
      // a leader's own interrupt must not fail the others' units: hold it back while flushing
      boolean interrupted = Thread.interrupted();
      try {
        if (!call.answer.isDone()) {
          flush();
        }
      } catch (Throwable unexpected) {
        if (queue.remove(call)) {
          call.answer.completeExceptionally(unexpected); // never run: it must not commit later either
        }
        throw unexpected;
      } finally {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
        flushing.unlock();
      }
    }
    try {
      return (T) call.answer.get();
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while waiting for a committed answer", e);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof RuntimeException r) {
        throw r;
      }
      if (e.getCause() instanceof Error err) {
        throw err;
      }
      throw new LedgerException("ledger transaction failed: " + e.getCause().getMessage(), e.getCause());
    }
  }

  /** Transactions committed and units they carried (group commit's ratio, for benchmarks and tests). */
  long transactions() {
    return transactions.get();
  }

  long units() {
    return units.get();
  }

  private void flush() {
    List<Call<?>> batch = new ArrayList<>();
    for (Call<?> c; batch.size() < MAX_BATCH && (c = queue.poll()) != null; ) {
      batch.add(c);
    }
    if (batch.isEmpty()) {
      return;
    }
    List<Object> answers;
    try {
      answers = ledger.transact(tx -> batch.size() == 1 ? List.of(Outcome.ok(batch.get(0).work.run(tx)))
          : runEach(tx, batch));
    } catch (Throwable failed) {
      batch.forEach(c -> c.answer.completeExceptionally(failed));
      if (failed instanceof Error e) {
        throw e;
      }
      return;
    }
    transactions.incrementAndGet();
    units.addAndGet(batch.size());
    for (int i = 0; i < batch.size(); i++) {
      Outcome o = (Outcome) answers.get(i);
      if (o.failure == null) {
        batch.get(i).answer.complete(o.value);
      } else {
        batch.get(i).answer.completeExceptionally(o.failure);
      }
    }
  }

  private record Outcome(Object value, Throwable failure) {
    static Outcome ok(Object value) {
      return new Outcome(value, null);
    }
  }

  private static List<Object> runEach(Tx tx, List<Call<?>> batch) throws SQLException {
    Connection c = tx.connection();
    List<Object> out = new ArrayList<>(batch.size());
    for (Call<?> call : batch) {
      Savepoint savepoint = c.setSavepoint();
      int mark = tx.afterCommitActions().size();
      try {
        Object value = call.work.run(tx);
        c.releaseSavepoint(savepoint);
        out.add(Outcome.ok(value));
      } catch (SQLException | RuntimeException e) {
        if (FailureKind.of(e).isTransient()) {
          throw e; // the whole attempt goes; the ledger retries the batch
        }
        c.rollback(savepoint);
        tx.afterCommitActions().subList(mark, tx.afterCommitActions().size()).clear();
        out.add(new Outcome(null, Ledger.failure(e, "ledger statement failed")));
      }
    }
    return out;
  }
}
