package dev.conveyor.durability.service;

import com.google.rpc.Code;
import dev.conveyor.api.ErrorStatus;
import dev.conveyor.durability.cursors.CursorFencedException;
import dev.conveyor.ledger.FailureKind;
import dev.conveyor.ledger.LedgerException;
import dev.conveyor.messagequeue.effects.ClaimLostException;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The service's failures as gRPC statuses with an ErrorInfo reason a client can switch on: INVALID_ARGUMENT
 * (the message names the field), CLAIM_LOST, CURSOR_FENCED, LEDGER_UNAVAILABLE (UNAVAILABLE: retry),
 * LEDGER_ERROR and INTERNAL (deterministic: retrying the same call cannot help).
 */
final class DurabilityErrors {
  private static final Logger log = LoggerFactory.getLogger(DurabilityErrors.class);

  private DurabilityErrors() {}

  static StatusRuntimeException toStatus(Throwable e) {
    if (e instanceof StatusRuntimeException s) {
      return s;
    }
    if (e instanceof IllegalArgumentException) {
      return ErrorStatus.of(Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", e.getMessage());
    }
    if (e instanceof ClaimLostException) {
      return ErrorStatus.of(Code.FAILED_PRECONDITION, "CLAIM_LOST",
          e.getMessage().replace("claim on " + DurabilityService.SCOPE_PREFIX, "claim on "));
    }
    if (e instanceof CursorFencedException) {
      return ErrorStatus.of(Code.FAILED_PRECONDITION, "CURSOR_FENCED", e.getMessage());
    }
    if (e instanceof LedgerException && FailureKind.of(e).isTransient()) {
      log.warn("ledger unavailable: {}", e.getMessage());
      return ErrorStatus.of(Code.UNAVAILABLE, "LEDGER_UNAVAILABLE", "the ledger is unavailable; retry");
    }
    if (e instanceof LedgerException) {
      log.error("ledger error", e); // the driver's words stay in the server's log
      return ErrorStatus.of(Code.INTERNAL, "LEDGER_ERROR", "the ledger refused the call");
    }
    log.error("unexpected failure", e);
    return ErrorStatus.of(Code.INTERNAL, "INTERNAL", "internal error");
  }

  static StatusRuntimeException overloaded(String what) {
    return ErrorStatus.of(Code.RESOURCE_EXHAUSTED, "OVERLOADED", what);
  }
}
