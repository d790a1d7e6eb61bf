package dev.conveyor.ledger.jobs;

import java.time.Instant;

/** A job as stored in the ledger. */
public record Job(
    String id,
    JobKind kind,
    JobState state,
    String executionClass,
    String lane,
    String laneKey,
    String pinnedExecutorId,
    String dedupeKey,
    String parentId,
    String rootId,
    byte[] payload,
    int attempts,
    int maxAttempts,
    Instant runAfter,
    String leaseEpoch,
    String leaseOwner,
    Instant leaseExpiresAt,
    boolean cancelRequested,
    JobProgress progress,
    String childrenFingerprint,
    String lastCompletionEpoch,
    String lastCompletionHash,
    String lastError,
    Instant createdAt,
    Instant updatedAt,
    Instant startedAt,
    Instant finishedAt,
    long version,
    boolean afterSiblings) {

  public boolean isRoot() {
    return parentId == null;
  }

  /** The holder presenting {@code epoch} still owns this job (expiry is checked separately). */
  boolean heldWith(String epoch) {
    return state.isLeased() && epoch != null && epoch.equals(leaseEpoch);
  }

  /** A planner whose batched fan-out has begun and not finished: some children exist, more may follow. */
  public boolean fanningOut() {
    return JobFanOut.IN_PROGRESS.equals(childrenFingerprint);
  }

  boolean leaseExpiredAt(Instant now) {
    return leaseExpiresAt == null || !leaseExpiresAt.isAfter(now);
  }
}
