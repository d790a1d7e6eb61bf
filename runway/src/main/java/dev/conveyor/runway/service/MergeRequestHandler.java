package dev.conveyor.runway.service;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.messagequeue.consume.Delivery;
import dev.conveyor.messagequeue.consume.MessageHandler;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.messagequeue.stream.Publisher;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.runway.merge.GitFailures;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.runway.merge.MergePlans;
import dev.conveyor.runway.merge.MergeRejection;
import dev.conveyor.runway.queue.RunwayQueues;
import java.io.IOException;
import java.time.Duration;
import org.eclipse.jgit.api.errors.JGitInternalException;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Consumes one request topic. Conflicts, invalid requests and a remote that refuses us (not found,
 * not authorized) become FAILED results; a transient git failure (a busy or unreachable remote, a
 * cache write race) is retried later without counting an attempt; other infrastructure errors are
 * nacked and retried; an undecodable payload or one without a correlation id is dead-lettered with
 * its error. The result is published in the transaction that acks the request.
 */
final class MergeRequestHandler implements MessageHandler {
  private static final Logger log = LoggerFactory.getLogger(MergeRequestHandler.class);
  /** A merge of a large stack may take minutes; keep the message invisible to other members meanwhile. */
  static final Duration MERGE_VISIBILITY = Duration.ofMinutes(15);

  private final Merger merger;
  private final RunwayQueues queues;
  private final Publisher publisher;
  private final TopicKey signal;
  private final boolean dryRun;

  MergeRequestHandler(Merger merger, RunwayQueues queues, Publisher publisher, TopicKey requestTopic) {
    this.merger = merger;
    this.queues = queues;
    this.publisher = publisher;
    this.signal = RunwayTopics.signalOf(requestTopic);
    this.dryRun = requestTopic.equals(RunwayTopics.CHECK);
  }

  @Override
  public Outcome handle(Delivery delivery) {
    MergeRequest request;
    try {
      request = delivery.payloadAs(MergeRequest.getDefaultInstance());
    } catch (ProtoJson.PayloadException e) {
      return Outcome.reject(e.getMessage());
    }
    if (request.getId().isBlank()) {
      return Outcome.reject("MergeRequest has an empty 'id', so no result could be correlated");
    }
    delivery.extendVisibility(MERGE_VISIBILITY);
    MergeResult result;
    try {
      result = MergeResults.of(request, merger.merge(MergePlans.plan(request, queues, dryRun)));
    } catch (MergeRejection r) {
      result = MergeResults.failed(request, r.stepId(), r.describe());
    } catch (IOException | JGitInternalException e) {
      String error = e.getClass().getSimpleName() + ": " + e.getMessage();
      if (GitFailures.isTransient(e)) {
        // a busy or unreachable remote, a cache write race: says nothing about the request
        log.warn("request {} on queue {}: {}; will retry without counting an attempt", request.getId(),
            request.getQueueName(), error);
        return Outcome.unavailable(error);
      }
      if (GitFailures.isRefusal(e)) {
        result = MergeResults.failed(request, null, "the remote refused runway (check the queue's remote URL and"
            + " credentials): " + e.getMessage());
      } else {
        log.warn("request {} on queue {}: {}; will retry", request.getId(), request.getQueueName(), error);
        return Outcome.nack(error);
      }
    }
    log.info("request {} on queue {}: {}{}", request.getId(), request.getQueueName(), result.getOutcome(),
        result.getReason().isEmpty() ? "" : " (" + result.getReason() + ")");
    MergeResult published = result;
    return Outcome.ack(tx -> MergeResults.publish(tx, publisher, signal, published));
  }
}
