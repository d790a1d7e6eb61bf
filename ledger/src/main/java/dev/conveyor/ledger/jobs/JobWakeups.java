package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Collection;
import java.util.EnumSet;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Wake-ups for idle leasers, by job kind. A commit that makes jobs of a kind ready (enqueue, fan-out, a
 * lane freed) or due later (a retry's backoff, a delayed job) raises the {@value #CHANNEL} signal with
 * the kind (and the due time); one that cannot cheaply tell the kind (hand-back, a parked job woken,
 * continuations unblocked, reaped leases) raises it for every kind. A leaser of this process waiting for
 * those kinds is woken after the commit, and on PostgreSQL a leaser of any process (the signal is a
 * NOTIFY); a build worker is not woken by a capture job. A job due later wakes its waiters when it is due,
 * from a timer here. Idle leasers still poll, rarely, in case a signal was missed.
 *
 * <p>Payloads: {@code ""} every kind now, {@code <millis>} every kind then, {@code <KIND>} and
 * {@code <KIND>@<millis>}. One that does not parse (another version's) wakes every kind now.
 */
public final class JobWakeups {
  public static final String CHANNEL = "conveyor_jobs";
  /** Timers held for jobs due later; past this, later ones are left to the idle poll. */
  private static final int MAX_TIMERS = 1_024;
  /** Due times closer than this share one timer. */
  private static final long TIMER_GRAIN_MS = 50;
  private static final JobKind[] KINDS = JobKind.values();

  private final Ledger ledger;
  private final Object lock = new Object();
  /** Signals per kind (by ordinal) and, last, those for every kind; guarded by {@link #lock}. */
  private final long[] signals = new long[KINDS.length + 1];
  private volatile boolean acrossProcesses;
  /** Scheduled wake-ups by due time (grain {@link #TIMER_GRAIN_MS}) and kind ("" for any); guarded by lock. */
  private final java.util.TreeMap<Due, java.util.concurrent.ScheduledFuture<?>> timers = new java.util.TreeMap<>();
  private ScheduledExecutorService timer;
  private boolean closed;

  private record Due(long grain, String kind) implements Comparable<Due> {
    @Override
    public int compareTo(Due o) {
      int c = Long.compare(grain, o.grain);
      return c != 0 ? c : kind.compareTo(o.kind);
    }
  }
  private final Waiting all = new Waiting(EnumSet.allOf(JobKind.class));

  JobWakeups(Ledger ledger) {
    this.ledger = ledger;
    ledger.signals().listen(CHANNEL, this::onSignal);
  }

  /** Raised by a transaction that made jobs of any kind ready now. */
  static void announce(Tx tx) throws SQLException {
    tx.signal(CHANNEL, "");
  }

  /** Raised by a transaction that made jobs of {@code kind} ready now. */
  static void announce(Tx tx, JobKind kind) throws SQLException {
    tx.signal(CHANNEL, kind.name());
  }

  /** Raised by a transaction that made jobs of each of {@code kinds} ready now. */
  static void announce(Tx tx, Collection<JobKind> kinds) throws SQLException {
    for (JobKind kind : kinds.isEmpty() ? EnumSet.noneOf(JobKind.class) : EnumSet.copyOf(kinds)) {
      announce(tx, kind);
    }
  }

  /** Raised by a transaction that made a job of {@code kind} (null: any) due at {@code dueAtMillis} (ledger time). */
  static void announce(Tx tx, JobKind kind, long dueAtMillis) throws SQLException {
    String name = kind == null ? "" : kind.name();
    if (dueAtMillis <= tx.nowMillis()) {
      tx.signal(CHANNEL, name);
    } else {
      tx.signal(CHANNEL, kind == null ? Long.toString(dueAtMillis) : name + "@" + dueAtMillis);
    }
  }

  private void onSignal(String payload) {
    if (payload == null || payload.isEmpty()) {
      signal(null);
      return;
    }
    int at = payload.indexOf('@');
    JobKind kind;
    long due;
    try {
      if (at >= 0) {
        kind = JobKind.valueOf(payload.substring(0, at));
        due = Long.parseLong(payload.substring(at + 1));
      } else if (Character.isDigit(payload.charAt(0))) {
        kind = null;
        due = Long.parseLong(payload);
      } else {
        kind = JobKind.valueOf(payload);
        due = 0;
      }
    } catch (IllegalArgumentException e) {
      signal(null); // a payload from another version: waking is always correct
      return;
    }
    long in = due - ledger.clock().millis();
    if (in <= 0) {
      signal(kind);
      return;
    }
    Due slot = new Due(due / TIMER_GRAIN_MS, kind == null ? "" : kind.name());
    synchronized (lock) {
      if (closed || timers.containsKey(slot)) {
        return;
      }
      if (timers.size() >= MAX_TIMERS) {
        // full: the latest wake-up makes room for an earlier one (a near retry must not wait for the poll
        // because far-off delays came first); a later one is left to the poll
        Due latest = timers.lastKey();
        if (latest.compareTo(slot) < 0) {
          return;
        }
        timers.remove(latest).cancel(false);
      }
      if (timer == null) {
        timer = Executors.newSingleThreadScheduledExecutor(r -> {
          Thread t = new Thread(r, "job-wakeups");
          t.setDaemon(true);
          return t;
        });
      }
      timers.put(slot, timer.schedule(() -> {
        synchronized (lock) {
          timers.remove(slot);
        }
        signal(kind);
      }, in + 1, TimeUnit.MILLISECONDS));
    }
  }

  /** Wake-ups scheduled for later, at most {@link #MAX_TIMERS}. */
  int scheduled() {
    synchronized (lock) {
      return timers.size();
    }
  }

  /** Stops the timers (the ledger closes): no thread or pending wake-up outlives it. */
  public void close() {
    synchronized (lock) {
      closed = true;
      timers.clear();
      if (timer != null) {
        timer.shutdownNow();
      }
    }
  }

  /** Wakes the waiters for {@code kind} (null: every waiter). */
  void signal(JobKind kind) {
    synchronized (lock) {
      signals[kind == null ? KINDS.length : kind.ordinal()]++;
      lock.notifyAll();
    }
  }

  /** Waiting for jobs of {@code kinds} only (none: every kind): signals about other kinds do not wake it. */
  public Waiting of(Set<JobKind> kinds) {
    return new Waiting(kinds.isEmpty() ? EnumSet.allOf(JobKind.class) : EnumSet.copyOf(kinds));
  }

  /** A number that grows whenever jobs of any kind may have become ready. */
  public long version() {
    return all.version();
  }

  /** Waits until a signal about any kind after {@code seen}, or {@code max} passes. */
  public void awaitAfter(long seen, Duration max) throws InterruptedException {
    all.awaitAfter(seen, max);
  }

  /** Whether a job made ready in another process wakes this process's waiters (PostgreSQL), not only its poll. */
  public boolean hearsOtherProcesses() {
    return ledger.dialect() == Dialect.POSTGRESQL;
  }

  private void listenAcrossProcesses() {
    if (!acrossProcesses) {
      acrossProcesses = true;
      ledger.signals().acrossProcesses(CHANNEL);
    }
  }

  /** The wake-ups of some kinds of jobs. */
  public final class Waiting {
    private final EnumSet<JobKind> kinds;

    private Waiting(EnumSet<JobKind> kinds) {
      this.kinds = kinds;
    }

    /** A number that grows whenever jobs of these kinds may have become ready. */
    public long version() {
      synchronized (lock) {
        return current();
      }
    }

    private long current() {
      long v = signals[KINDS.length];
      for (JobKind k : kinds) {
        v += signals[k.ordinal()];
      }
      return v;
    }

    /**
     * Waits until a signal about these kinds after {@code seen}, or {@code max} passes. The first wait
     * starts listening to other processes' signals (on PostgreSQL).
     */
    public void awaitAfter(long seen, Duration max) throws InterruptedException {
      listenAcrossProcesses();
      long deadline = System.nanoTime() + max.toNanos();
      synchronized (lock) {
        for (long left = max.toNanos(); current() == seen && left > 0; left = deadline - System.nanoTime()) {
          TimeUnit.NANOSECONDS.timedWait(lock, left);
        }
      }
    }
  }
}
