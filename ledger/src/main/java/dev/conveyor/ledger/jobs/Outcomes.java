package dev.conveyor.ledger.jobs;

import java.time.Instant;
import java.util.List;

/** Small result values of job operations. */
public final class Outcomes {
  private Outcomes() {}

  /** An enqueue: the job's id, and whether it was created or an active duplicate was found. */
  public record Enqueued(String jobId, boolean created) {}

  /** A lease grant: the job, its fresh epoch, and when the lease lapses unless renewed. */
  public record LeaseGrant(Job job, String epoch, Instant expiresAt) {}

  /** Answer to a renew or a progress report. */
  public record LeaseStatus(boolean renewed, boolean cancellationRequested, Instant expiresAt) {}

  /** The state a completion left the job in; {@code replayed} when it repeated an earlier one. */
  public record Completed(JobState state, boolean replayed) {}

  /** A started job: when it started, and whether cancellation was already asked for. */
  public record Started(Instant at, boolean cancellationRequested) {}

  /** A recorded result: the response bytes and whether they are the stored answer to a replay. */
  public record RecordedResult(byte[] response, boolean replayed) {}

  /** A fan-out: the children's ids in order; {@code replayed} when it repeated an earlier one. */
  public record FannedOut(List<String> childIds, boolean replayed) {}

  /** A job with its descendants. */
  public record JobTree(Job job, List<JobTree> children) {}
}
