package dev.conveyor.ledger;

import java.sql.Connection;
import java.sql.SQLException;
import java.sql.Savepoint;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.IdentityHashMap;
import java.util.Map;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.atomic.AtomicLong;

/**
 * Group commit (after River's batch completer): callers queue units of work and wait; committer
 * threads (one on SQLite, {@link #COMMITTERS} on PostgreSQL) each run everything queued so far, up to {@link #MAX_BATCH} units, in one transaction,
 * and answers each caller with its own result. While one transaction is in flight the next batch
 * gathers, so a quiet ledger adds only a thread hand-off and a busy one pays one commit for many units.
 * (A design without the thread, where callers compete for a flush lock, was measured first: lock
 * barging left nearly every batch at one unit.)
 *
 * <p>Each caller sees what it would see from {@link Ledger#transact} alone. A batch of several first runs
 * without savepoints (each is a round trip, and most batches fail nowhere; a {@link Coalesced} work
 * answers a refusal such as a stale epoch instead of throwing it). When a unit fails deterministically (a
 * plain unit's stale lease, bad input, a constraint), that attempt is rolled back and the batch runs
 * again with each unit in a savepoint of its own: the failing unit is rolled back to its savepoint, its
 * after-commit actions dropped, and the failure goes to its caller only. So a batch holding a failing
 * unit costs two attempts; {@link #carefulRetries()} counts them. A transient failure (contention, a lost connection) fails the attempt, and the
 * ledger retries the whole batch as it retries any transaction; if the ledger stays unavailable every
 * caller of the batch gets that failure, as each would have alone.
 */
final class GroupCommit {
  static final int MAX_BATCH = 256;
  static final int COMMITTERS = 4;

  private final Ledger ledger;
  private final LinkedBlockingQueue<Call<?>> queue = new LinkedBlockingQueue<>();
  private final List<Thread> committers = new ArrayList<>();
  private boolean closed;
  private final AtomicLong transactions = new AtomicLong();
  private final AtomicLong units = new AtomicLong();
  private final AtomicLong careful = new AtomicLong();

  GroupCommit(Ledger ledger) {
    this.ledger = ledger;
  }

  static final class Call<T> {
    final Tx.Work<T> work;
    /** Set when the unit is one request of shared work; then {@link #work} runs it alone. */
    final Coalesced<Object, Object> coalesced;
    final Object request;
    final CompletableFuture<Object> answer = new CompletableFuture<>();

    Call(Tx.Work<T> work) {
      this.work = work;
      this.coalesced = null;
      this.request = null;
    }

    @SuppressWarnings("unchecked")
    <R> Call(Coalesced<R, T> coalesced, R request) {
      this.coalesced = (Coalesced<Object, Object>) coalesced;
      this.request = request;
      this.work = tx -> coalesced.runOne(tx, request);
    }
  }

  <T> T transact(Tx.Work<T> work) {
    return await(submit(work));
  }

  <R, T> T transact(Coalesced<R, T> work, R request) {
    return await(enqueue(new Call<>(work, request)));
  }

  /**
   * Queues a unit and answers at once with its future, completed on a committer thread once the unit's
   * transaction has ended: with its value, or with the failure {@link #transact} would have thrown.
   * Whatever runs on completion runs on that thread, so it must be quick and must not wait for the ledger.
   */
  <T> CompletableFuture<T> transactAsync(Tx.Work<T> work) {
    return answerOf(submit(work));
  }

  <R, T> CompletableFuture<T> transactAsync(Coalesced<R, T> work, R request) {
    return answerOf(enqueue(new Call<>(work, request)));
  }

  @SuppressWarnings("unchecked")
  private static <T> CompletableFuture<T> answerOf(Call<T> call) {
    CompletableFuture<T> out = new CompletableFuture<>();
    call.answer.whenComplete((value, failure) -> {
      if (failure == null) {
        out.complete((T) value);
      } else if (failure instanceof RuntimeException || failure instanceof Error) {
        out.completeExceptionally(failure);
      } else {
        out.completeExceptionally(new LedgerException("ledger transaction failed: " + failure.getMessage(), failure));
      }
    });
    return out;
  }

  /** Queues a unit; the committer runs it with whatever else is queued by then. */
  <T> Call<T> submit(Tx.Work<T> work) {
    return enqueue(new Call<>(work));
  }

  private <T> Call<T> enqueue(Call<T> call) {
    synchronized (this) {
      if (closed) {
        throw new IllegalStateException("ledger " + ledger.url() + " is closed");
      }
      if (committers.isEmpty()) {
        // SQLite has one writer: a second committer would only wait for the first. PostgreSQL overlaps
        // several transactions' round trips, so a few committers run batches side by side.
        int n = ledger.dialect() == Dialect.SQLITE ? 1 : COMMITTERS;
        for (int i = 0; i < n; i++) {
          Thread t = new Thread(this::commitLoop, "ledger-group-commit-" + i);
          t.setDaemon(true);
          t.start();
          committers.add(t);
        }
      }
      queue.add(call);
    }
    return call;
  }

  /**
   * The caller's answer. Waiting is not interruptible: once queued, a unit may commit, and its caller
   * must learn how it ended (an interrupt is kept for the caller to see afterwards).
   */
  @SuppressWarnings("unchecked")
  <T> T await(Call<T> call) {
    boolean interrupted = false;
    while (true) {
      try {
        Object value = call.answer.get();
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
        return (T) value;
      } catch (InterruptedException e) {
        interrupted = true;
      } catch (ExecutionException e) {
        if (interrupted) {
          Thread.currentThread().interrupt();
        }
        if (e.getCause() instanceof RuntimeException r) {
          throw r;
        }
        if (e.getCause() instanceof Error err) {
          throw err;
        }
        throw new LedgerException("ledger transaction failed: " + e.getCause().getMessage(), e.getCause());
      }
    }
  }

  /** A committer: commits what callers queued, a batch per transaction, until the ledger closes. */
  private void commitLoop() {
    while (true) {
      Call<?> first;
      try {
        first = queue.poll(1, java.util.concurrent.TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        failQueued(new IllegalStateException("ledger " + ledger.url() + " is closed"));
        return;
      }
      if (first == null) {
        if (isClosed()) {
          return; // an interrupt consumed inside a transaction must not keep a closed ledger's committer alive
        }
        continue;
      }
      List<Call<?>> batch = new ArrayList<>();
      batch.add(first);
      queue.drainTo(batch, MAX_BATCH - 1);
      try {
        flush(batch);
      } catch (Throwable unexpected) { // no caller may wait forever, and the committer must go on
        batch.forEach(c -> c.answer.completeExceptionally(unexpected));
      }
    }
  }

  private synchronized boolean isClosed() {
    return closed;
  }

  private void failQueued(RuntimeException why) {
    for (Call<?> c; (c = queue.poll()) != null; ) {
      c.answer.completeExceptionally(why);
    }
  }

  /** Stops the committer; units already queued are refused. */
  void close() {
    List<Thread> threads;
    synchronized (this) {
      closed = true;
      threads = List.copyOf(committers);
    }
    for (Thread t : threads) {
      t.interrupt();
      try {
        t.join(10_000);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    failQueued(new IllegalStateException("ledger " + ledger.url() + " is closed"));
  }

  /** Transactions committed and units they carried (group commit's ratio, for benchmarks and tests). */
  long transactions() {
    return transactions.get();
  }

  long units() {
    return units.get();
  }

  /** Batches that ran a second time, unit by unit, because a unit failed in the first attempt. */
  long carefulRetries() {
    return careful.get();
  }

  /** Runs one batch in one transaction and answers its calls (the committers' step; tests call it directly). */
  void flush(List<Call<?>> batch) {
    List<Object> answers;
    try {
      try {
        answers = ledger.transact(tx -> batch.size() == 1 ? List.of(Outcome.ok(batch.get(0).work.run(tx)))
            : runEach(tx, batch, false));
      } catch (UnitFailed oneFailed) {
        careful.incrementAndGet();
        answers = ledger.transact(tx -> runEach(tx, batch, true)); // nothing of the first attempt committed
      }
    } catch (RuntimeException failed) {
      batch.forEach(c -> c.answer.completeExceptionally(failed));
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

  /**
   * A unit of a batch run without savepoints failed deterministically: the attempt is rolled back and
   * the batch runs again with a savepoint around each unit.
   */
  private static final class UnitFailed extends RuntimeException {
    UnitFailed(Throwable cause) {
      super("a unit of a group-commit batch failed; the batch runs again unit by unit", cause, false, false);
    }
  }

  /**
   * Runs a batch's units in one transaction: the requests of each {@link Coalesced} work together in
   * one call, every other unit on its own. Answers one outcome per call, in order. Most batches fail
   * nowhere (a refusal is an answer, not a failure), so the first attempt takes no savepoints, each a
   * round trip of its own; {@code careful}, the attempt after a unit failed, wraps each unit in one so
   * that a deterministic failure undoes only that unit.
   */
  private static List<Object> runEach(Tx tx, List<Call<?>> batch, boolean careful) throws SQLException {
    Object[] out = new Object[batch.size()];
    // in the order each shared work first appears, so a batch runs the same way every time
    Map<Coalesced<Object, Object>, List<Integer>> shared = new IdentityHashMap<>();
    List<Coalesced<Object, Object>> order = new ArrayList<>();
    for (int i = 0; i < batch.size(); i++) {
      Call<?> call = batch.get(i);
      if (call.coalesced == null) {
        out[i] = careful ? runAlone(tx, call) : runUnguarded(tx, call.work);
      } else {
        shared.computeIfAbsent(call.coalesced, k -> {
          order.add(k);
          return new ArrayList<>();
        }).add(i);
      }
    }
    for (Coalesced<Object, Object> work : order) {
      List<Integer> members = shared.get(work);
      if (!careful) {
        runSharedUnguarded(tx, work, batch, members, out);
      } else {
        for (int i : members) {
          out[i] = runAlone(tx, batch.get(i)); // a shared run may be what failed: each request alone now
        }
      }
    }
    return Arrays.asList(out);
  }

  /** One unit with no savepoint: a deterministic failure fails the attempt (see {@link UnitFailed}). */
  private static Outcome runUnguarded(Tx tx, Tx.Work<?> work) throws SQLException {
    try {
      return Outcome.ok(work.run(tx));
    } catch (SQLException | RuntimeException e) {
      if (FailureKind.of(e).isTransient()) {
        throw e;
      }
      throw new UnitFailed(e);
    }
  }

  private static void runSharedUnguarded(Tx tx, Coalesced<Object, Object> work, List<Call<?>> batch,
      List<Integer> members, Object[] out) throws SQLException {
    List<Object> requests = new ArrayList<>(members.size());
    for (int i : members) {
      requests.add(batch.get(i).request);
    }
    List<Coalesced.Answer<Object>> answers;
    try {
      answers = work.runAll(tx, requests);
    } catch (SQLException | RuntimeException e) {
      if (FailureKind.of(e).isTransient()) {
        throw e;
      }
      throw new UnitFailed(e);
    }
    if (answers.size() != requests.size()) {
      throw new UnitFailed(new IllegalStateException(work + " answered " + answers.size() + " of " + requests.size()
          + " requests"));
    }
    for (int k = 0; k < members.size(); k++) {
      Coalesced.Answer<Object> a = answers.get(k);
      out[members.get(k)] = a.refusal() == null ? Outcome.ok(a.value())
          : new Outcome(null, Ledger.failure(a.refusal(), "ledger statement failed"));
    }
  }

  /** One unit in its own savepoint: a deterministic failure undoes only this unit. */
  private static Outcome runAlone(Tx tx, Call<?> call) throws SQLException {
    Connection c = tx.connection();
    Savepoint savepoint = c.setSavepoint();
    Tx.Mark mark = tx.mark();
    try {
      return Outcome.ok(call.work.run(tx)); // the savepoint ends with the transaction: no RELEASE round trip
    } catch (SQLException | RuntimeException e) {
      if (FailureKind.of(e).isTransient()) {
        throw e; // the whole attempt goes; the ledger retries the batch
      }
      c.rollback(savepoint);
      tx.rolledBackTo(mark);
      return new Outcome(null, Ledger.failure(e, "ledger statement failed"));
    }
  }

}
