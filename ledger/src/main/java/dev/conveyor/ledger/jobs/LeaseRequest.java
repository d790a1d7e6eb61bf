package dev.conveyor.ledger.jobs;

import java.time.Duration;
import java.util.Set;

/**
 * A worker's request for work. Empty filter sets match anything; a lane set containing
 * {@code "*"} matches any lane. Pinned jobs are only handed to a request whose
 * {@code executorIds} names their executor.
 */
public record LeaseRequest(
    String executorId,
    Set<JobKind> kinds,
    Set<String> executionClasses,
    Set<String> lanes,
    Set<String> executorIds,
    int maxJobs,
    Duration leaseDuration) {

  public static final int MAX_BATCH = 500;

  public LeaseRequest {
    if (executorId == null || executorId.isBlank()) {
      throw new IllegalArgumentException("executor_id must not be empty");
    }
    kinds = kinds == null ? Set.of() : Set.copyOf(kinds);
    executionClasses = executionClasses == null ? Set.of() : Set.copyOf(executionClasses);
    lanes = lanes == null ? Set.of() : Set.copyOf(lanes);
    executorIds = executorIds == null ? Set.of() : Set.copyOf(executorIds);
    if (maxJobs < 1 || maxJobs > MAX_BATCH) {
      throw new IllegalArgumentException("max_jobs must be between 1 and " + MAX_BATCH + ", got " + maxJobs);
    }
    if (leaseDuration == null || leaseDuration.isNegative() || leaseDuration.isZero()) {
      throw new IllegalArgumentException("lease duration must be positive, got " + leaseDuration);
    }
  }

  public static LeaseRequest of(String executorId, Set<JobKind> kinds, Duration leaseDuration) {
    return new LeaseRequest(executorId, kinds, Set.of(), Set.of(), Set.of(), 1, leaseDuration);
  }

  public LeaseRequest withMaxJobs(int n) {
    return new LeaseRequest(executorId, kinds, executionClasses, lanes, executorIds, n, leaseDuration);
  }

  public LeaseRequest withExecutorIds(Set<String> ids) {
    return new LeaseRequest(executorId, kinds, executionClasses, lanes, ids, maxJobs, leaseDuration);
  }

  public LeaseRequest withLanes(Set<String> l) {
    return new LeaseRequest(executorId, kinds, executionClasses, l, executorIds, maxJobs, leaseDuration);
  }

  public LeaseRequest withExecutionClasses(Set<String> c) {
    return new LeaseRequest(executorId, kinds, c, lanes, executorIds, maxJobs, leaseDuration);
  }

  boolean anyLane() {
    return lanes.isEmpty() || lanes.contains("*");
  }
}
