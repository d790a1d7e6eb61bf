package dev.conveyor.ledger.jobs;

import java.time.Duration;

/**
 * In-process wake-ups for idle leasers: a commit that made jobs ready (enqueue, fan-out, hand-back,
 * reaped leases) signals after it commits, so a worker of this process waiting for work leases at once
 * instead of at its next poll. Other nodes still find the jobs by polling.
 */
public final class JobWakeups {
  private final Object lock = new Object();
  private long version;

  void signal() {
    synchronized (lock) {
      version++;
      lock.notifyAll();
    }
  }

  /** A number that grows whenever jobs may have become ready here. */
  public long version() {
    synchronized (lock) {
      return version;
    }
  }

  /** Waits until a signal after {@code seen}, or {@code max} passes. */
  public void awaitAfter(long seen, Duration max) throws InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    synchronized (lock) {
      for (long left = max.toNanos(); version == seen && left > 0; left = deadline - System.nanoTime()) {
        java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(lock, left);
      }
    }
  }
}
