package dev.conveyor.durability.signals;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;

/**
 * Wake-ups for FollowSignals, kept only for partitions someone follows on this node: a commit to a partition
 * nobody follows costs a map lookup and leaves nothing behind, so clients inventing partitions cannot grow it.
 * Commits on this node signal after commit; other nodes' commits arrive by NOTIFY on {@link #CHANNEL}.
 */
public final class SignalWakeups {
  /** Apart from the message queue's channel: a signal wakes no pipeline consumer. */
  public static final String CHANNEL = "conveyor_durability";

  private final ReentrantLock lock = new ReentrantLock();
  private final Condition changed = lock.newCondition();
  /** topic -> {followers, version}. */
  private final Map<String, long[]> followed = new HashMap<>();

  public void follow(String topic) {
    lock.lock();
    try {
      followed.computeIfAbsent(topic, t -> new long[2])[0]++;
    } finally {
      lock.unlock();
    }
  }

  public void unfollow(String topic) {
    lock.lock();
    try {
      long[] f = followed.get(topic);
      if (f != null && --f[0] <= 0) {
        followed.remove(topic);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Something was committed to {@code topic}. */
  public void signal(String topic) {
    lock.lock();
    try {
      long[] f = followed.get(topic);
      if (f != null) {
        f[1]++;
        changed.signalAll();
      }
    } finally {
      lock.unlock();
    }
  }

  /** A number that grows whenever the followed {@code topic} may have something new. */
  public long version(String topic) {
    lock.lock();
    try {
      long[] f = followed.get(topic);
      return f == null ? 0 : f[1];
    } finally {
      lock.unlock();
    }
  }

  /** Waits until {@code topic}'s version moves past {@code seen} or the timeout passes. */
  public void await(String topic, long seen, Duration timeout) throws InterruptedException {
    long nanos = timeout.toNanos();
    lock.lock();
    try {
      while (nanos > 0) {
        long[] f = followed.get(topic);
        if (f != null && f[1] != seen) {
          return;
        }
        nanos = changed.awaitNanos(nanos);
      }
    } finally {
      lock.unlock();
    }
  }

  /** Everything may have changed (a NOTIFY that could not be read): every follower looks again. */
  public void signalEverything() {
    lock.lock();
    try {
      followed.values().forEach(f -> f[1]++);
      changed.signalAll();
    } finally {
      lock.unlock();
    }
  }
}
