package dev.conveyor.messagequeue.consume;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.time.Duration;

/** What a handler decided about one delivery. */
public sealed interface Outcome {

  /** Done. The action, if any, commits in the same transaction as the ack (state change + ack + follow-ups). */
  record Ack(TxAction action) implements Outcome {}

  /** Failed; try again after backoff. Counts toward the topic's max attempts, then dead-letters. */
  record Nack(String error) implements Outcome {}

  /** Can never succeed: dead-letter now. */
  record Reject(String error) implements Outcome {}

  /** Not yet: re-deliver after {@code delay} without consuming an attempt. */
  record Postpone(Duration delay) implements Outcome {}

  /** Work done inside the ack's transaction. */
  @FunctionalInterface
  interface TxAction {
    void run(Tx tx) throws SQLException;
  }

  static Outcome ack() {
    return new Ack(null);
  }

  static Outcome ack(TxAction action) {
    return new Ack(action);
  }

  static Outcome nack(String error) {
    return new Nack(error);
  }

  static Outcome reject(String error) {
    return new Reject(error);
  }

  static Outcome postpone(Duration delay) {
    return new Postpone(delay);
  }
}
