package dev.conveyor.supervise;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Leasing for a worker of {@code slots} threads: a slot without work takes a grant another slot leased
 * for it, or, when none is waiting and no other slot is leasing, leases for every free slot at once
 * (one round-trip for several jobs) and leaves the spare grants for the slots that are free. A slot
 * reports {@link #finished()} when it is done with a grant, so "free" counts only slots holding none.
 *
 * <p>With a lease-ahead {@code a > 1} (db-scheduler's {@code lockAndFetch(1.0, a)}), the worker holds up
 * to {@code a × slots} grants: a slot that finds fewer than {@code slots} spare grants waiting leases for
 * the difference before it takes one, so the other slots rarely wait for a lease. The spare grants are
 * jobs no other worker can run until this one gets to them (or their leases expire), so the default is 1:
 * lease only for free slots.
 *
 * @param <G> a lease grant
 */
public final class SlotLeases<G> {
  /** Leases up to {@code max} jobs (at least one is asked for); an empty list when there are none. */
  @FunctionalInterface
  public interface Leaser<G> {
    List<G> lease(int max) throws Exception;
  }

  /**
   * How an idle slot waits between polls: until something may have become leasable after {@code seen}
   * (a wake-up), or {@code max} passes. Without one, it sleeps the idle poll.
   */
  public interface Wakeup {
    long version();

    void awaitAfter(long seen, Duration max) throws InterruptedException;

    /** How to wait, given by method references to a source of wake-ups (the ledger's ready signals, say). */
    static Wakeup of(java.util.function.LongSupplier version, Await await) {
      return new Wakeup() {
        @Override
        public long version() {
          return version.getAsLong();
        }

        @Override
        public void awaitAfter(long seen, Duration max) throws InterruptedException {
          await.awaitAfter(seen, max);
        }
      };
    }

    /** {@link #awaitAfter} as a function. */
    @FunctionalInterface
    interface Await {
      void awaitAfter(long seen, Duration max) throws InterruptedException;
    }
  }

  private static final Wakeup SLEEP = new Wakeup() {
    @Override
    public long version() {
      return 0;
    }

    @Override
    public void awaitAfter(long seen, Duration max) throws InterruptedException {
      TimeUnit.NANOSECONDS.sleep(max.toNanos());
    }
  };

  private final int slots;
  private final int leaseAhead;
  private final int maxPerLease;
  private final Duration idlePoll;
  private final Wakeup wakeup;
  private final BlockingQueue<G> spare = new LinkedBlockingQueue<>();
  private final ReentrantLock leasing = new ReentrantLock();
  private final AtomicInteger held = new AtomicInteger();
  /** The wake-up version at which a lease last found nothing, and when (so idle slots do not each ask). */
  private volatile long emptyVersion = Long.MIN_VALUE;
  private volatile long emptyAtNanos;

  public SlotLeases(int slots, int maxPerLease, Duration idlePoll) {
    this(slots, maxPerLease, idlePoll, SLEEP);
  }

  /** Idle slots wait for {@code wakeup} (or the idle poll, whichever comes first) before leasing again. */
  public SlotLeases(int slots, int maxPerLease, Duration idlePoll, Wakeup wakeup) {
    this(slots, 1, maxPerLease, idlePoll, wakeup);
  }

  /** Holding up to {@code leaseAhead × slots} grants (see the class comment); idle slots sleep the idle poll. */
  public SlotLeases(int slots, int leaseAhead, int maxPerLease, Duration idlePoll) {
    this(slots, leaseAhead, maxPerLease, idlePoll, SLEEP);
  }

  /** As above, holding up to {@code leaseAhead × slots} grants (see the class comment). */
  public SlotLeases(int slots, int leaseAhead, int maxPerLease, Duration idlePoll, Wakeup wakeup) {
    if (slots < 1 || maxPerLease < 1 || leaseAhead < 1) {
      throw new IllegalArgumentException("slots, lease-ahead and jobs per lease must be at least 1");
    }
    this.slots = slots;
    this.leaseAhead = leaseAhead;
    this.maxPerLease = maxPerLease;
    this.idlePoll = idlePoll;
    this.wakeup = wakeup;
  }

  /**
   * A grant for the calling slot, or null after about one idle poll interval without one (the slot
   * loops and asks again). Failures of {@code leaser} propagate; nothing is held then.
   */
  public G next(Leaser<G> leaser) throws Exception {
    long v = wakeup.version();
    long sinceEmpty = System.nanoTime() - emptyAtNanos;
    if (emptyVersion == v && sinceEmpty < idlePoll.toNanos() && spare.isEmpty()) {
      // a lease found nothing and nothing was signalled since: wait with that slot instead of asking again
      wakeup.awaitAfter(v, idlePoll.minusNanos(sinceEmpty));
      return null;
    }
    if (leaseAhead == 1 || spare.size() >= slots) {
      G handed = spare.poll();
      if (handed != null) {
        return handed;
      }
    }
    if (!leasing.tryLock()) {
      G handed = spare.poll();
      // another slot is leasing, for this one too: wait for that lease, not an idle poll (which may be long)
      return handed != null ? handed : spare.poll(Math.min(idlePoll.toMillis(), 50), TimeUnit.MILLISECONDS);
    }
    List<G> grants = List.of();
    long seen = wakeup.version(); // read before leasing: a job made ready meanwhile is not slept through
    int want = Math.min(leaseAhead * slots - held.get(), maxPerLease);
    try {
      if (want >= 1) {
        grants = leaser.lease(want);
        held.addAndGet(grants.size());
        spare.addAll(grants.subList(Math.min(1, grants.size()), grants.size()));
      }
    } finally {
      leasing.unlock();
    }
    if (want < 1) {
      return spare.poll(idlePoll.toMillis(), TimeUnit.MILLISECONDS); // a spare grant is on its way to this slot
    }
    if (grants.isEmpty()) {
      G handed = spare.poll(); // lease-ahead: grants leased before may still wait
      if (handed != null) {
        return handed;
      }
      emptyAtNanos = System.nanoTime();
      emptyVersion = seen;
      wakeup.awaitAfter(seen, idlePoll);
      return null;
    }
    return grants.get(0);
  }

  /** The calling slot is done with its grant (whatever the outcome). */
  public void finished() {
    held.decrementAndGet();
  }

  /** Grants leased and not yet finished: running jobs and spare grants waiting for a slot. */
  public int held() {
    return held.get();
  }
}
