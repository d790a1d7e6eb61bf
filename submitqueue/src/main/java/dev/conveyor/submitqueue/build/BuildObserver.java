package dev.conveyor.submitqueue.build;

import java.time.Duration;

/** Told of every build a worker ran and how long it took, and of each lease it took; for metrics and tests. */
@FunctionalInterface
public interface BuildObserver {
  BuildObserver NONE = (queue, outcome, took) -> { };

  /** {@code outcome}: passed, failed, retried, lease-lost or stopped (handed back on shutdown). */
  void built(String queue, String outcome, Duration took);

  /** One lease transaction handed this worker {@code jobs} builds (more than one when several slots were idle). */
  default void leased(int jobs) {}
}
