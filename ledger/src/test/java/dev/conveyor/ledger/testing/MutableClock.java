package dev.conveyor.ledger.testing;

import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.atomic.AtomicReference;

/** A clock tests move by hand, so lease expiry and backoff need no sleeping. */
public final class MutableClock extends Clock {
  private final AtomicReference<Instant> now;

  public MutableClock(Instant start) {
    this.now = new AtomicReference<>(start);
  }

  public static MutableClock startingNow() {
    return new MutableClock(Instant.now());
  }

  public void advance(Duration d) {
    now.updateAndGet(t -> t.plus(d));
  }

  public void set(Instant instant) {
    now.set(instant);
  }

  private record Fault(String threadPrefix, Error error) {}

  private final AtomicReference<Fault> fault = new AtomicReference<>();

  /**
   * The next read of this clock on a thread whose name starts with {@code threadPrefix} throws
   * {@code error}, once: the ledger reads its clock at the start of every transaction, so this puts
   * an {@code Error} into whichever background loop runs on that thread, through a real ledger call.
   */
  public void failOnceOn(String threadPrefix, Error error) {
    fault.set(new Fault(threadPrefix, error));
  }

  /** Whether a fault set by {@link #failOnceOn} has not fired yet. */
  public boolean faultPending() {
    return fault.get() != null;
  }

  @Override
  public Instant instant() {
    Fault f = fault.get();
    if (f != null && Thread.currentThread().getName().startsWith(f.threadPrefix()) && fault.compareAndSet(f, null)) {
      throw f.error();
    }
    return now.get();
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    return this;
  }
}
