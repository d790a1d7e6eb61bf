package dev.conveyor.messagequeue.consume;

import dev.conveyor.ledger.FailureKind;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.consume.ErrorClassifier.Verdict;
import dev.conveyor.messagequeue.consume.GroupPartitions.Batch;
import dev.conveyor.messagequeue.stream.StreamMessage;
import dev.conveyor.messagequeue.topic.TopicConfig;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ScheduledExecutorService;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Processes one held partition serially. Plain acks accumulate and commit together; an ack with
 * an action commits with the acks before it, so its transaction sees their effects. Any other
 * outcome commits the acks before it, records itself, and ends the batch.
 *
 * <p>A delivery's attempt is counted when it is handed out. A transient failure (of the handler, of
 * its ack, or of the ledger) gives the attempt back; the transaction that settles a delivery is
 * therefore retried for as long as the ledger stays unavailable and the partition is still ours, so
 * a blip never leaves a consumed attempt behind.
 */
final class PartitionWorker {
  private static final Logger log = LoggerFactory.getLogger(PartitionWorker.class);

  private final Ledger ledger;
  private final GroupPartitions state;
  private final ConsumerOptions options;
  private final TopicConfig topic;
  private final MessageHandler handler;
  private final ErrorClassifier classifier;
  private final ScheduledExecutorService timers;
  private final int partition;
  private final String epoch;
  /** Per partition: how many deliveries in a row ended unavailable (drives their backoff). */
  private final Map<Integer, Integer> unavailableStreak;

  PartitionWorker(Ledger ledger, GroupPartitions state, ConsumerOptions options, TopicConfig topic,
      MessageHandler handler, ErrorClassifier classifier, ScheduledExecutorService timers, int partition,
      String epoch, Map<Integer, Integer> unavailableStreak) {
    this.ledger = ledger;
    this.state = state;
    this.options = options;
    this.topic = topic;
    this.handler = handler;
    this.classifier = classifier;
    this.timers = timers;
    this.partition = partition;
    this.epoch = epoch;
    this.unavailableStreak = unavailableStreak;
  }

  /** When the head backs off: how long from the last delivery attempt until it is due (0: not waiting). */
  private long waitMillis;

  long waitMillis() {
    return waitMillis;
  }

  /**
   * Delivers one batch; answers whether the caller should go on: it made progress and there may be more
   * (not when it settled every deliverable message: one published since wakes the partition again).
   */
  boolean deliverOnce() {
    Optional<Batch> batch = ledger.transact(tx -> state.deliver(tx, partition, epoch, options.batchSize()));
    if (batch.isEmpty()) {
      return false;
    }
    if (batch.get().waitMillis() > 0) {
      waitMillis = batch.get().waitMillis();
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
          unavailableStreak.remove(partition);
          continue;
        } catch (PartitionLeaseLostException e) {
          throw e;
        } catch (RuntimeException e) {
          // The ack's own work failed and rolled back; classify it like a handler failure.
          outcome = failed(e);
        }
      }
      final long upTo = pendingAckUpTo;
      final Outcome failed = outcome;
      int headAttempt = upTo >= 0 ? 1 : batch.get().attempt();
      Duration unavailableDelay = failed instanceof Outcome.Unavailable ? unavailableBackoff() : null;
      settle(tx -> {
        if (upTo >= 0) {
          state.commit(tx, partition, epoch, upTo);
        }
        if (failed instanceof Outcome.Nack n) {
          state.nack(tx, partition, epoch, m, n.error(), options.backoff(headAttempt));
        } else if (failed instanceof Outcome.Reject r) {
          state.reject(tx, partition, epoch, m, r.error());
        } else if (failed instanceof Outcome.Postpone p) {
          state.postpone(tx, partition, epoch, m, p.delay(), null);
        } else if (failed instanceof Outcome.Unavailable u) {
          state.postpone(tx, partition, epoch, m, unavailableDelay, u.error());
        }
        return null;
      });
      if (!(failed instanceof Outcome.Unavailable)) {
        unavailableStreak.remove(partition);
      }
      return true;
    }
    if (pendingAckUpTo >= 0) {
      final long upTo = pendingAckUpTo;
      settle(tx -> {
        state.commit(tx, partition, epoch, upTo);
        return null;
      });
      unavailableStreak.remove(partition);
    }
    return !batch.get().rest();
  }

  private Duration unavailableBackoff() {
    return options.backoff(unavailableStreak.merge(partition, 1, Integer::sum));
  }

  /**
   * Runs the transaction that settles a delivery, again and again while the ledger stays unavailable:
   * giving up would leave the attempt counted at hand-out consumed. Ends when it commits, when the
   * partition turns out to be someone else's (the epoch fences it), or when this worker is stopped.
   */
  private void settle(Tx.Work<Void> work) {
    for (int round = 1; ; round++) {
      try {
        ledger.transact(work);
        return;
      } catch (RuntimeException e) {
        if (e instanceof PartitionLeaseLostException || !FailureKind.of(e).isTransient()
            || Thread.currentThread().isInterrupted()) {
          throw e;
        }
        Duration wait = options.backoff(round);
        log.warn("consumer {} partition {}: cannot settle a delivery yet ({}); again in {} ms", options.group(),
            partition, e.getMessage(), wait.toMillis());
        try {
          Thread.sleep(wait.toMillis());
        } catch (InterruptedException stop) {
          Thread.currentThread().interrupt();
          throw e;
        }
      }
    }
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
    if (timedOut && (failure == null || classifier.classify(failure) != Verdict.TRANSIENT)) {
      return Outcome.nack("visibility timeout of " + topic.visibilityTimeout().toMillis() + " ms passed");
    }
    if (failure == null) {
      return outcome;
    }
    if (failure instanceof Error && !(failure instanceof AssertionError)) {
      // Under supervision an Error must neither end the drain nor lose the message: retry it with
      // backoff against its attempts, so a message that always throws one ends in the DLQ.
      String error = failure.getClass().getSimpleName() + ": " + failure.getMessage();
      log.error("consumer {}: handler threw {} on {} (attempt {}); it is retried", options.group(), error,
          m.messageId(), attempt, failure);
      return Outcome.nack(error);
    }
    return failed(failure);
  }

  private Outcome failed(Throwable failure) {
    String error = failure.getClass().getSimpleName() + ": " + failure.getMessage();
    return switch (classifier.classify(failure)) {
      case TRANSIENT -> Outcome.unavailable(error);
      case RETRYABLE -> Outcome.nack(error);
      case TERMINAL -> Outcome.reject(error);
    };
  }
}
