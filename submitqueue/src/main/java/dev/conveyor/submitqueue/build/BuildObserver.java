package dev.conveyor.submitqueue.build;

import java.time.Duration;

/** Told of every build a worker ran and how long it took; for metrics. */
@FunctionalInterface
public interface BuildObserver {
  BuildObserver NONE = (queue, outcome, took) -> { };

  /** {@code outcome}: passed, failed, retried, lease-lost or stopped (handed back on shutdown). */
  void built(String queue, String outcome, Duration took);
}
