package dev.conveyor.messagequeue.wakeup;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * In-process wake-ups: publishers signal after commit, consumers wait for a change or a timeout
 * (the polling fallback). On PostgreSQL a LISTEN thread feeds other nodes' commits in here.
 */
public final class Wakeups {
  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  private long version;

  public void signal() {
    lock.lock();
    try {
      version++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  public long version() {
    lock.lock();
    try {
      return version;
    } finally {
      lock.unlock();
    }
  }

  /** Waits until something was signalled after {@code seenVersion}, or the timeout passes. */
  public long awaitAfter(long seenVersion, Duration timeout) throws InterruptedException {
    long nanos = timeout.toNanos();
    lock.lock();
    try {
      while (version == seenVersion && nanos > 0) {
        nanos = changed.awaitNanos(nanos);
      }
      return version;
    } finally {
      lock.unlock();
    }
  }
}
