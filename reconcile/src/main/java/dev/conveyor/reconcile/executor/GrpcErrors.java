package dev.conveyor.reconcile.executor;

import com.google.rpc.Code;
import dev.conveyor.api.ErrorStatus;
import dev.conveyor.ledger.FailureKind;
import dev.conveyor.ledger.LedgerException;
import dev.conveyor.ledger.jobs.JobErrors.IdempotencyMismatchException;
import dev.conveyor.ledger.jobs.JobErrors.InvalidJobStateException;
import dev.conveyor.ledger.jobs.JobErrors.JobNotFoundException;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Every failure becomes a precise gRPC status carrying an ErrorInfo whose reason a client
 * can switch on: LEASE_LOST, IDEMPOTENCY_MISMATCH, NOT_FOUND, INVALID_STATE, INVALID_ARGUMENT,
 * OVERLOADED, LEDGER_UNAVAILABLE (UNAVAILABLE: transient, retry), LEDGER_ERROR (INTERNAL: a deterministic
 * ledger error), INTERNAL.
 */
public final class GrpcErrors {
  public static final String DOMAIN = ErrorStatus.DOMAIN;
  private static final Logger log = LoggerFactory.getLogger(GrpcErrors.class);

  private GrpcErrors() {}

  public static StatusRuntimeException toStatus(Throwable e) {
    if (e instanceof StatusRuntimeException s) {
      return s;
    }
    if (e instanceof LeaseLostException lost) {
      return status(Code.FAILED_PRECONDITION, "LEASE_LOST", e.getMessage(), "job_id", lost.jobId());
    }
    if (e instanceof IdempotencyMismatchException) {
      return status(Code.ABORTED, "IDEMPOTENCY_MISMATCH", e.getMessage());
    }
    if (e instanceof JobNotFoundException) {
      return status(Code.NOT_FOUND, "NOT_FOUND", e.getMessage());
    }
    if (e instanceof InvalidJobStateException) {
      return status(Code.FAILED_PRECONDITION, "INVALID_STATE", e.getMessage());
    }
    if (e instanceof IllegalArgumentException) {
      return status(Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", e.getMessage());
    }
    if (e instanceof LedgerException && FailureKind.of(e).isTransient()) {
      log.warn("ledger unavailable: {}", e.getMessage());
      return status(Code.UNAVAILABLE, "LEDGER_UNAVAILABLE", e.getMessage());
    }
    if (e instanceof LedgerException) {
      // deterministic (a constraint, bad data): retrying the same call cannot help, so not UNAVAILABLE
      log.error("ledger error", e);
      return status(Code.INTERNAL, "LEDGER_ERROR", e.getMessage());
    }
    log.error("unexpected failure", e);
    return status(Code.INTERNAL, "INTERNAL", "internal error: " + e.getClass().getSimpleName());
  }

  public static StatusRuntimeException overloaded(String what) {
    return status(Code.RESOURCE_EXHAUSTED, "OVERLOADED", what);
  }

  public static StatusRuntimeException status(Code code, String reason, String message, String... metadata) {
    return ErrorStatus.of(code, reason, message, metadata);
  }

  /** The ErrorInfo reason of a status, or null; for clients. */
  public static String reasonOf(Throwable t) {
    return ErrorStatus.reasonOf(t);
  }
}
