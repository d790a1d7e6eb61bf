package dev.conveyor.submitqueue.pipeline;

import com.google.protobuf.Message;
import dev.conveyor.api.ProtoJson;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.consume.Delivery;
import dev.conveyor.messagequeue.consume.MessageHandler;
import dev.conveyor.messagequeue.consume.Outcome;
import java.sql.SQLException;

/**
 * A stage whose whole effect is a ledger transaction: it reads the entity's current state and acts
 * only if the state is the one it handles, so a redelivered, late or stale message changes nothing.
 * The work commits with the ack.
 */
public abstract class Stage<M extends Message> implements MessageHandler {
  private final M prototype;

  protected Stage(M prototype) {
    this.prototype = prototype;
  }

  @Override
  public Outcome handle(Delivery delivery) {
    return handle(delivery, StageOutcomes.Sink.NONE);
  }

  /** As {@link #handle(Delivery)}, telling {@code sink} after commit whether the message advanced anything. */
  Outcome handle(Delivery delivery, StageOutcomes.Sink sink) {
    M message;
    try {
      message = delivery.payloadAs(prototype);
    } catch (ProtoJson.PayloadException e) {
      return Outcome.reject(e.getMessage());
    }
    return Outcome.ack(tx -> {
      boolean advanced = apply(tx, message);
      tx.afterCommit(() -> sink.count(advanced ? StageOutcomes.Kind.ADVANCED : StageOutcomes.Kind.SKIPPED));
    });
  }

  /**
   * The stage's effect, in the ack's transaction. Answers false when it did nothing because the entity was
   * not in the state the stage handles (a duplicate, or it had moved on).
   */
  protected abstract boolean apply(Tx tx, M message) throws SQLException;
}
