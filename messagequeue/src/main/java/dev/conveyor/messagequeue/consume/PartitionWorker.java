package dev.conveyor.messagequeue.consume;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.consume.GroupPartitions.Batch;
import dev.conveyor.messagequeue.stream.StreamMessage;
import dev.conveyor.messagequeue.topic.TopicConfig;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Processes one held partition serially. Plain acks accumulate and commit together; an ack with
 * an action commits with the acks before it, so its transaction sees their effects. Any other
 * outcome commits the acks before it, records itself, and ends the batch.
 */
final class PartitionWorker {
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(PartitionWorker.class);
  private final Ledger ledger;
  private final GroupPartitions state;
  private final ConsumerOptions options;
  private final TopicConfig topic;
  private final MessageHandler handler;
  private final ErrorClassifier classifier;
  private final ScheduledExecutorService timers;
  private final int partition;
  private final String epoch;

  PartitionWorker(Ledger ledger, GroupPartitions state, ConsumerOptions options, TopicConfig topic,
      MessageHandler handler, ErrorClassifier classifier, ScheduledExecutorService timers, int partition,
      String epoch) {
    this.ledger = ledger;
    this.state = state;
    this.options = options;
    this.topic = topic;
    this.handler = handler;
    this.classifier = classifier;
    this.timers = timers;
    this.partition = partition;
    this.epoch = epoch;
  }

  /** Delivers one batch; answers whether it made progress (so the caller should go on). */
  boolean deliverOnce() {
    Optional<Batch> batch = ledger.transact(tx -> state.deliver(tx, partition, epoch, options.batchSize()));
    if (batch.isEmpty()) {
      return false;
    }
    List<StreamMessage> messages = batch.get().messages();
    if (messages.isEmpty()) {
      return true; // the head was dead-lettered; look again
    }
    int attempt = batch.get().attempt();
    long pendingAckUpTo = -1;
    for (StreamMessage m : messages) {
      Outcome outcome = invoke(m, attempt);
      attempt = 1; // only the head carries earlier attempts
      if (outcome instanceof Outcome.Ack ack && ack.action() == null) {
        pendingAckUpTo = m.seq();
        continue;
      }
      if (outcome instanceof Outcome.Ack ack) {
        try {
          ledger.transact(tx -> {
            ack.action().run(tx);
            state.commit(tx, partition, epoch, m.seq());
            return null;
          });
          pendingAckUpTo = -1;
          continue;
        } catch (PartitionLeaseLostException e) {
          throw e;
        } catch (RuntimeException e) {
          // The ack's own work failed and rolled back; classify it like a handler failure.
          String error = e.getClass().getSimpleName() + ": " + e.getMessage();
          outcome = classifier.isRetryable(e) ? Outcome.nack(error) : Outcome.reject(error);
        }
      }
      final long upTo = pendingAckUpTo;
      final Outcome failed = outcome;
      int headAttempt = upTo >= 0 ? 1 : batch.get().attempt();
      ledger.transact(tx -> {
        if (upTo >= 0) {
          state.commit(tx, partition, epoch, upTo);
        }
        if (failed instanceof Outcome.Nack n) {
          state.nack(tx, partition, epoch, m, n.error(), options.backoff(headAttempt));
        } else if (failed instanceof Outcome.Reject r) {
          state.reject(tx, partition, epoch, m, r.error());
        } else if (failed instanceof Outcome.Postpone p) {
          state.postpone(tx, partition, epoch, m, p.delay());
        }
        return null;
      });
      return true;
    }
    if (pendingAckUpTo >= 0) {
      final long upTo = pendingAckUpTo;
      ledger.transact(tx -> {
        state.commit(tx, partition, epoch, upTo);
        return null;
      });
    }
    return true;
  }

  private Outcome invoke(StreamMessage m, int attempt) {
    VisibilityTimer timer = new VisibilityTimer(timers, Thread.currentThread(), topic.visibilityTimeout());
    Delivery delivery = new Delivery(m, attempt, options.group(), timer);
    Outcome outcome;
    Throwable failure = null;
    try {
      outcome = handler.handle(delivery);
      if (outcome == null) {
        throw new IllegalStateException("handler returned no outcome");
      }
    } catch (Throwable t) {
      failure = t;
      outcome = null;
    }
    boolean timedOut = timer.finish();
    if (timedOut) {
      return Outcome.nack("visibility timeout of " + topic.visibilityTimeout().toMillis() + " ms passed");
    }
    if (failure == null) {
      return outcome;
    }
    String error = failure.getClass().getSimpleName() + ": " + failure.getMessage();
    if (failure instanceof Error && !(failure instanceof AssertionError)) {
      // Under supervision an Error must neither end the drain nor lose the message: retry it with
      // backoff against its attempts, so a message that always throws one ends in the DLQ.
      log.error("consumer {}: handler threw {} on {} (attempt {}); it is retried", options.group(), error,
          m.messageId(), attempt, failure);
      return Outcome.nack(error);
    }
    return classifier.isRetryable(failure) ? Outcome.nack(error) : Outcome.reject(error);
  }
}
