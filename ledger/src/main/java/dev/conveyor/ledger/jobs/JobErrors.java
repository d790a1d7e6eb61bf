package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.LedgerException;

/** Job errors a caller can tell apart; RPC layers map each to a precise status. */
public final class JobErrors {
  private JobErrors() {}

  /** The caller no longer holds the job's lease (stale epoch, expired, or the job moved on). */
  public static final class LeaseLostException extends LedgerException {
    private static final long serialVersionUID = 1L;
    private final String jobId;

    public LeaseLostException(String jobId, String why) {
      super("lease on job " + jobId + " lost: " + why);
      this.jobId = jobId;
    }

    public String jobId() {
      return jobId;
    }
  }

  /** The same idempotency key arrived with a different payload. */
  public static final class IdempotencyMismatchException extends LedgerException {
    private static final long serialVersionUID = 1L;

    public IdempotencyMismatchException(String message) {
      super(message);
    }
  }

  public static final class JobNotFoundException extends LedgerException {
    private static final long serialVersionUID = 1L;

    public JobNotFoundException(String jobId) {
      super("no job with id '" + jobId + "'");
    }
  }

  /** The job exists but the operation does not apply to its state. */
  public static final class InvalidJobStateException extends LedgerException {
    private static final long serialVersionUID = 1L;

    public InvalidJobStateException(String message) {
      super(message);
    }
  }
}
