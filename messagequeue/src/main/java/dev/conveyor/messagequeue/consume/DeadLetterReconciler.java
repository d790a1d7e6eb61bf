package dev.conveyor.messagequeue.consume;

import dev.conveyor.api.base.DeadLetter;
import dev.conveyor.ledger.Tx;

/**
 * Drives the entity a dead letter names to a terminal state (a request to ERROR, a batch to
 * FAILED, a cross-service call to a FAILED result), inside the transaction that acks the dead
 * letter. It must never re-run the work that failed.
 */
@FunctionalInterface
public interface DeadLetterReconciler {
  void reconcile(Tx tx, DeadLetter letter) throws Exception;

  /**
   * Wraps a reconciler as a handler. Dead letters are never dropped: a failing reconcile is
   * retried with backoff, forever (pair with {@link ErrorClassifier#ALWAYS_RETRY}).
   */
  static MessageHandler asHandler(DeadLetterReconciler reconciler) {
    return delivery -> {
      DeadLetter letter = DeadLetters.decode(delivery.message());
      return Outcome.ack(tx -> {
        try {
          reconciler.reconcile(tx, letter);
        } catch (java.sql.SQLException | RuntimeException e) {
          throw e;
        } catch (Exception e) {
          throw new IllegalStateException(e.getMessage(), e);
        }
      });
    };
  }
}
