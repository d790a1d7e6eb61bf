package dev.conveyor.submitqueue.pipeline;

import com.google.protobuf.Message;
import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.submitqueue.BatchSignal;
import dev.conveyor.api.submitqueue.RequestSignal;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.stream.IntentId;
import dev.conveyor.messagequeue.stream.Publisher;
import dev.conveyor.messagequeue.topic.TopicKey;
import java.sql.SQLException;

/**
 * Stage hand-offs, published in the caller's transaction. Every message of a queue goes to one
 * partition (key = queue), so a queue's stages see its events in order and its planning is serial —
 * except validation and its conflict check ({@link #perRequest}), which concern one request alone and
 * are keyed by it, so a burst of lands is checked in parallel instead of one after another.
 * Message ids are intent ids, so a redelivered stage re-publishing the same hand-off adds nothing.
 */
public final class Signals {
  private final Publisher publisher;

  public Signals(Publisher publisher) {
    this.publisher = publisher;
  }

  public Publisher publisher() {
    return publisher;
  }

  public void request(Tx tx, TopicKey topic, String queue, String requestId) throws SQLException {
    publish(tx, topic, queue, IntentId.of(requestId, topic.value()),
        RequestSignal.newBuilder().setRequestId(requestId).setQueue(queue).build());
  }

  /** A request's hand-off keyed by the request: it needs no order with the queue's other events. */
  public void perRequest(Tx tx, TopicKey topic, String queue, String requestId) throws SQLException {
    publisher.publish(tx, topic, requestId, IntentId.of(requestId, topic.value()), ProtoJson.toBytes(
        RequestSignal.newBuilder().setRequestId(requestId).setQueue(queue).build()));
  }

  /** {@code cause} names the event, so two different wake-ups of one batch are both delivered. */
  public void batch(Tx tx, TopicKey topic, String queue, String batchId, String cause) throws SQLException {
    publish(tx, topic, queue, IntentId.of(batchId, topic.value() + ":" + cause),
        BatchSignal.newBuilder().setBatchId(batchId).setQueue(queue).setCause(cause).build());
  }

  /** As {@link #batch}, delivered once {@code delay} has passed (held in the ledger: a restart keeps it). */
  public void batchAfter(Tx tx, TopicKey topic, String queue, String batchId, String cause, java.time.Duration delay)
      throws SQLException {
    publisher.publishAfter(tx, topic, queue, IntentId.of(batchId, topic.value() + ":" + cause), ProtoJson.toBytes(
        BatchSignal.newBuilder().setBatchId(batchId).setQueue(queue).setCause(cause).build()), delay);
  }

  /** Publishes {@code payload} with partition key {@code key} (the queue, for every queue-ordered hand-off). */
  public void publish(Tx tx, TopicKey topic, String key, String messageId, Message payload) throws SQLException {
    publisher.publish(tx, topic, key, messageId, ProtoJson.toBytes(payload));
  }
}
