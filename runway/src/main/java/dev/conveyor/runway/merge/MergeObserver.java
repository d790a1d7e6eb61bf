package dev.conveyor.runway.merge;

import java.time.Duration;

/** Told of every merge the merger ran (dry runs included) and how long it took; for metrics. */
@FunctionalInterface
public interface MergeObserver {
  MergeObserver NONE = (plan, outcome, took) -> { };

  /** {@code outcome}: succeeded, failed (a conflict or invalid request) or error (infrastructure; retried). */
  void merged(MergePlan plan, String outcome, Duration took);
}
