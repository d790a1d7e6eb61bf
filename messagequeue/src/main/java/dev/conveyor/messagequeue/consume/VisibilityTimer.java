package dev.conveyor.messagequeue.consume;

import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/** Interrupts a handler thread when its delivery's visibility deadline passes without an extension. */
final class VisibilityTimer {
  private final ScheduledExecutorService scheduler;
  private final Thread worker;
  private ScheduledFuture<?> pending;
  private volatile boolean expired;
  private boolean done;

  VisibilityTimer(ScheduledExecutorService scheduler, Thread worker, Duration timeout) {
    this.scheduler = scheduler;
    this.worker = worker;
    schedule(timeout);
  }

  private synchronized void schedule(Duration timeout) {
    pending = scheduler.schedule(this::expire, timeout.toMillis(), TimeUnit.MILLISECONDS);
  }

  private synchronized void expire() {
    if (!done) {
      expired = true;
      worker.interrupt();
    }
  }

  synchronized void extend(Duration extension) {
    if (done || expired) {
      return;
    }
    pending.cancel(false);
    schedule(extension);
  }

  /** Stops the timer; answers whether the deadline passed while the handler ran. */
  synchronized boolean finish() {
    done = true;
    pending.cancel(false);
    if (expired) {
      Thread.interrupted(); // clear the interrupt we caused, so the worker can go on
    }
    return expired;
  }
}
