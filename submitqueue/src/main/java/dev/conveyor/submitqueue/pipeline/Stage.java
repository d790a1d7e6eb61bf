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
    M message;
    try {
      message = delivery.payloadAs(prototype);
    } catch (ProtoJson.PayloadException e) {
      return Outcome.reject(e.getMessage());
    }
    return Outcome.ack(tx -> apply(tx, message));
  }

  protected abstract void apply(Tx tx, M message) throws SQLException;
}
