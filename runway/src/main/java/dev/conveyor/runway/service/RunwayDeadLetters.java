package dev.conveyor.runway.service;

import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.base.DeadLetter;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.consume.DeadLetterReconciler;
import dev.conveyor.messagequeue.stream.Publisher;
import dev.conveyor.messagequeue.topic.TopicKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers every request Runway gave up on with a FAILED result, so the caller's correlation id
 * always resolves. A payload that is not a MergeRequest still gets an answer when it carries an
 * {@code id}; one without any id cannot be correlated and stays in the dead-letter topic's history.
 */
final class RunwayDeadLetters implements DeadLetterReconciler {
  private static final Logger log = LoggerFactory.getLogger(RunwayDeadLetters.class);

  private final Publisher publisher;
  private final TopicKey signal;

  RunwayDeadLetters(Publisher publisher, TopicKey requestTopic) {
    this.publisher = publisher;
    this.signal = RunwayTopics.signalOf(requestTopic);
  }

  @Override
  public void reconcile(Tx tx, DeadLetter letter) throws Exception {
    // Not a verdict on the change: the result names no step, so callers report it as runway's failure.
    String reason = "runway gave up on this request after " + letter.getAttempts() + " attempt"
        + (letter.getAttempts() == 1 ? "" : "s") + ": " + letter.getLastError();
    MergeRequest request;
    try {
      request = ProtoJson.fromBytes(letter.getPayload().toByteArray(), MergeRequest.getDefaultInstance());
    } catch (ProtoJson.PayloadException e) {
      request = lenientHeader(letter.getPayload().toByteArray());
    }
    if (request.getId().isBlank()) {
      log.warn("dead letter {} of {} has no correlation id; no result can be published ({})",
          letter.getMessageId(), letter.getOriginalTopic(), letter.getLastError());
      return;
    }
    MergeResults.publish(tx, publisher, signal, MergeResults.failed(request, null, reason));
  }

  /** The id and queue of a payload that is JSON but not a valid MergeRequest. */
  private static MergeRequest lenientHeader(byte[] payload) {
    try {
      Struct json = ProtoJson.fromBytes(payload, Struct.getDefaultInstance());
      Value id = json.getFieldsOrDefault("id", Value.getDefaultInstance());
      Value queue = json.getFieldsOrDefault("queue_name", Value.getDefaultInstance());
      return MergeRequest.newBuilder()
          .setId(id.hasStringValue() ? id.getStringValue() : "")
          .setQueueName(queue.hasStringValue() ? queue.getStringValue() : "")
          .build();
    } catch (ProtoJson.PayloadException e) {
      return MergeRequest.getDefaultInstance();
    }
  }
}
