package dev.conveyor.messagequeue.consume;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.ledger.FailureKind;
import java.sql.SQLRecoverableException;
import java.sql.SQLTransientException;

/** Decides what a handler's exception means for the message it was handling. */
@FunctionalInterface
public interface ErrorClassifier {

  /** The three answers, from the most to the least forgiving. */
  enum Verdict {
    /**
     * The ledger or another dependency is unavailable ({@link FailureKind#isTransient}): re-deliver
     * after a growing backoff, without consuming an attempt; never dead-lettered.
     */
    TRANSIENT,
    /** May succeed next time: nack, which counts toward the topic's max attempts. */
    RETRYABLE,
    /** Can never succeed: dead-letter now. */
    TERMINAL
  }

  Verdict classify(Throwable error);

  /**
   * The single source of truth: an undecodable payload is terminal; what the ledger classifies as
   * transient (connection loss, shutdown, pool timeouts, serialization failures, deadlocks, busy SQLite,
   * optimistic conflicts, socket errors) is transient; interrupted or timed out handlers and other
   * transient JDBC errors are retryable; everything else is terminal.
   */
  ErrorClassifier DEFAULT = error -> {
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof ProtoJson.PayloadException) {
        return Verdict.TERMINAL;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    if (FailureKind.of(error).isTransient()) {
      return Verdict.TRANSIENT;
    }
    for (Throwable t = error; t != null; t = t.getCause()) {
      if (t instanceof SQLTransientException || t instanceof SQLRecoverableException
          || t instanceof InterruptedException || t instanceof VisibilityTimeoutException) {
        return Verdict.RETRYABLE;
      }
      if (t.getCause() == t) {
        break;
      }
    }
    return Verdict.TERMINAL;
  };

  /**
   * A controller's override: every error is retried (dead-letter reconcilers must never drop a
   * message); transient ones still without consuming attempts.
   */
  ErrorClassifier ALWAYS_RETRY =
      error -> DEFAULT.classify(error) == Verdict.TRANSIENT ? Verdict.TRANSIENT : Verdict.RETRYABLE;

  /** Thrown into a handler whose visibility timeout passed without an extension. */
  final class VisibilityTimeoutException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public VisibilityTimeoutException(String message) {
      super(message);
    }
  }
}
