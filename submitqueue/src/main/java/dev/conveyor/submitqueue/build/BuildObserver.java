package dev.conveyor.submitqueue.build;

import java.time.Duration;

/** Told of every build a worker ran and how long it took, and of each lease it took; for metrics and tests. */
@FunctionalInterface
public interface BuildObserver {
  BuildObserver NONE = (queue, outcome, took) -> { };

  /** {@code outcome}: passed, failed, conflict, retried, lease-lost, replayed or stopped (handed back on shutdown). */
  void built(String queue, String outcome, Duration took);

  /** One lease transaction handed this worker {@code jobs} builds (more than one when several slots were idle). */
  default void leased(int jobs) {}

  /**
   * A build's verdict was stored as its effect claim, just before its job's completion is tried (on the
   * worker's thread: must be quick).
   */
  default void verdictRecorded(String jobId) {}
}
