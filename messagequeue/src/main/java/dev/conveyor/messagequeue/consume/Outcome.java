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

  /**
   * A dependency (the ledger, a git remote) is unavailable: re-deliver after a backoff that grows while
   * it stays so, without consuming an attempt; never dead-lettered. {@code error} becomes the head's
   * last error, so lag views show why the partition waits.
   */
  record Unavailable(String error) implements Outcome {}

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

  static Outcome unavailable(String error) {
    return new Unavailable(error);
  }
}
