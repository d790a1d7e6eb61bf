package dev.conveyor.messagequeue.wakeup;

import java.time.Duration;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * In-process wake-ups: publishers signal after commit, consumers wait for a change or a timeout
 * (the polling fallback). On PostgreSQL a LISTEN thread feeds other nodes' commits in here.
 * Besides the global version, each topic partition has its own, so a consumer only re-reads the
 * partitions that received something (a process with many groups would otherwise re-read every
 * partition of every group on every publish).
 */
public final class Wakeups {
  private final ReentrantLock lock = new ReentrantLock();
  /** Tags this process's NOTIFY payloads, so its own LISTEN connection skips what it signalled already. */
  private final String origin = String.format("%08x", new java.security.SecureRandom().nextInt());
  private final Condition changed = lock.newCondition();
  private final java.util.Map<String, Long> byPartition = new java.util.HashMap<>();
  private long version;
  private long everything;

  /** Something changed somewhere: every partition counts as signalled. */
  public void signal() {
    lock.lock();
    try {
      version++;
      everything++;
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** Something was committed to {@code wireTopic} (every partition of it counts as signalled). */
  public void signal(String wireTopic) {
    bump(wireTopic + "#*");
  }

  /** Something was committed to one partition. */
  public void signal(String wireTopic, int partition) {
    bump(wireTopic + "#" + partition);
  }

  private void bump(String key) {
    lock.lock();
    try {
      version++;
      byPartition.merge(key, 1L, Long::sum);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }

  /** A number that grows whenever {@code partition} of {@code wireTopic} may have something new. */
  public long version(String wireTopic, int partition) {
    lock.lock();
    try {
      return everything + byPartition.getOrDefault(wireTopic + "#*", 0L)
          + byPartition.getOrDefault(wireTopic + "#" + partition, 0L);
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

  /** A payload as this process sends it in a NOTIFY: {@code <origin>|<payload>}. */
  public String tagged(String payload) {
    return origin + "|" + payload;
  }

  /** A NOTIFY payload without its origin; null when this process sent it. An untagged one is kept. */
  public String untagged(String payload) {
    if (payload.length() >= 9 && payload.charAt(8) == '|'
        && payload.substring(0, 8).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      return payload.startsWith(origin) ? null : payload.substring(9);
    }
    return payload;
  }
}
