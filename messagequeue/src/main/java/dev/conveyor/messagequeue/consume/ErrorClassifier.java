package dev.conveyor.messagequeue.consume;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.ledger.OptimisticConflictException;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;

/** Decides whether a handler's exception is worth retrying. */
@FunctionalInterface
public interface ErrorClassifier {
  boolean isRetryable(Throwable error);

  /**
   * Optimistic-lock conflicts, transient and recoverable database errors and interrupted or timed
   * out handlers are retryable; an undecodable payload and everything else are terminal.
   */
  ErrorClassifier DEFAULT = error -> {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof ProtoJson.PayloadException) {
        return false;
      }
      if (t instanceof OptimisticConflictException || t instanceof SQLTransientException
          || t instanceof SQLRecoverableException || t instanceof InterruptedException
          || t instanceof VisibilityTimeoutException) {
        return true;
      }
      if (t instanceof java.sql.SQLException sql && sql.getSQLState() != null
          && (sql.getSQLState().startsWith("40") || sql.getSQLState().startsWith("08"))) {
        return true;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return false;
  };

  /** A controller's override: every error is retried (dead-letter reconcilers must never drop a message). */
  ErrorClassifier ALWAYS_RETRY = error -> true;

  /** Thrown into a handler whose visibility timeout passed without an extension. */
  final class VisibilityTimeoutException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VisibilityTimeoutException(String message) {
      super(message);
    }
  }
}
