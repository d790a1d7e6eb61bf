package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.time.Duration;
import java.util.concurrent.ConcurrentSkipListSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Wake-ups for idle leasers. A commit that makes jobs ready (enqueue, fan-out, hand-back, a lane freed,
 * continuations unblocked) or due later (a retry's backoff, a parked job, a delayed job) raises the
 * {@value #CHANNEL} signal; a leaser of this process waiting for work is woken after the commit, and on
 * PostgreSQL a leaser of any process (the signal is a NOTIFY). A job due later wakes its waiters when it
 * is due, from a timer here. Idle leasers still poll, rarely, in case a signal was missed.
 */
public final class JobWakeups {
  public static final String CHANNEL = "conveyor_jobs";
  /** Timers held for jobs due later; past this, later ones are left to the idle poll. */
  private static final int MAX_TIMERS = 1_024;
  /** Due times closer than this share one timer. */
  private static final long TIMER_GRAIN_MS = 50;

  private final Ledger ledger;
  private final Object lock = new Object();
  private long version;
  private volatile boolean acrossProcesses;
  private final ConcurrentSkipListSet<Long> timers = new ConcurrentSkipListSet<>();
  private ScheduledExecutorService timer;

  JobWakeups(Ledger ledger) {
    this.ledger = ledger;
    ledger.signals().listen(CHANNEL, this::onSignal);
  }

  /** Raised by a transaction that made jobs ready now. */
  static void announce(Tx tx) throws SQLException {
    tx.signal(CHANNEL, "");
  }

  /** Raised by a transaction that made a job due at {@code dueAtMillis} (ledger time). */
  static void announce(Tx tx, long dueAtMillis) throws SQLException {
    tx.signal(CHANNEL, dueAtMillis <= tx.nowMillis() ? "" : Long.toString(dueAtMillis));
  }

  private void onSignal(String payload) {
    if (payload == null || payload.isEmpty()) {
      signal();
      return;
    }
    long due;
    try {
      due = Long.parseLong(payload);
    } catch (NumberFormatException e) {
      signal(); // a payload from another version: waking is always correct
      return;
    }
    long in = due - ledger.clock().millis();
    if (in <= 0) {
      signal();
      return;
    }
    long slot = due / TIMER_GRAIN_MS;
    if (timers.size() >= MAX_TIMERS || !timers.add(slot)) {
      return;
    }
    synchronized (lock) {
      if (timer == null) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "job-wakeups");
          t.setDaemon(true);
          return t;
        });
      }
      timer.schedule(() -> {
        timers.remove(slot);
        signal();
      }, in + 1, TimeUnit.MILLISECONDS);
    }
  }

  void signal() {
    synchronized (lock) {
      version++;
      lock.notifyAll();
    }
  }

  /** A number that grows whenever jobs may have become ready. */
  public long version() {
    synchronized (lock) {
      return version;
    }
  }

  /**
   * Waits until a signal after {@code seen}, or {@code max} passes. The first wait starts listening to
   * other processes' signals (on PostgreSQL).
   */
  public void awaitAfter(long seen, Duration max) throws InterruptedException {
    if (!acrossProcesses) {
      acrossProcesses = true;
      ledger.signals().acrossProcesses(CHANNEL);
    }
    long deadline = System.nanoTime() + max.toNanos();
    synchronized (lock) {
      for (long left = max.toNanos(); version == seen && left > 0; left = deadline - System.nanoTime()) {
        TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
    }
  }

  /** Whether a job made ready in another process wakes this process's waiters (PostgreSQL), not only its poll. */
  public boolean hearsOtherProcesses() {
    return ledger.dialect() == dev.conveyor.ledger.Dialect.POSTGRESQL;
  }
}
