package dev.conveyor.submitqueue.gateway;

import com.google.rpc.Code;
import dev.conveyor.api.ErrorStatus;
import dev.conveyor.ledger.FailureKind;
import dev.conveyor.ledger.LedgerException;
import dev.conveyor.submitqueue.request.RequestRefused;
import io.grpc.StatusRuntimeException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Maps gateway failures to gRPC statuses with an ErrorInfo reason (the RequestRefused kind, or
 * LEDGER_UNAVAILABLE for a transient ledger failure and LEDGER_ERROR for a deterministic one).
 */
final class GatewayErrors {
  private static final Logger log = LoggerFactory.getLogger(GatewayErrors.class);

  private GatewayErrors() {}

  static StatusRuntimeException toStatus(Throwable e) {
    if (e instanceof StatusRuntimeException s) {
      return s;
    }
    if (e instanceof RequestRefused r) {
      Code code = switch (r.kind()) {
        case UNKNOWN_QUEUE, REQUEST_NOT_FOUND, BUILD_NOT_FOUND -> Code.NOT_FOUND;
        case INVALID_ARGUMENT, INVALID_CHANGE_URI -> Code.INVALID_ARGUMENT;
        case CHANGE_ALREADY_QUEUED -> Code.ALREADY_EXISTS;
        case ALREADY_TERMINAL, BATCH_MERGING, QUEUE_DRAINING, NOT_REVERTIBLE -> Code.FAILED_PRECONDITION;
      };
      return r.holder() == null ? ErrorStatus.of(code, r.kind().name(), r.getMessage())
          : ErrorStatus.of(code, r.kind().name(), r.getMessage(), "holder", r.holder());
    }
    if (e instanceof java.io.UncheckedIOException io) { // the remote or the cache: try again later
      log.warn("git unavailable: {}", io.getMessage()); // a remote's words and address stay in the log
      return ErrorStatus.of(Code.UNAVAILABLE, "GIT_UNAVAILABLE", "the queue's git remote could not be reached;"
          + " try again");
    }
    if (e instanceof IllegalArgumentException) {
      return ErrorStatus.of(Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", e.getMessage());
    }
    if (e instanceof LedgerException && FailureKind.of(e).isTransient()) {
      log.warn("ledger unavailable: {}", e.getMessage());
      return ErrorStatus.of(Code.UNAVAILABLE, "LEDGER_UNAVAILABLE", e.getMessage());
    }
    if (e instanceof LedgerException) {
      // deterministic (a constraint, bad data): retrying the same call cannot help, so not UNAVAILABLE
      log.error("ledger error", e);
      return ErrorStatus.of(Code.INTERNAL, "LEDGER_ERROR", e.getMessage());
    }
    log.error("unexpected gateway failure", e);
    return ErrorStatus.of(Code.INTERNAL, "INTERNAL", "internal error: " + e.getClass().getSimpleName());
  }
}
