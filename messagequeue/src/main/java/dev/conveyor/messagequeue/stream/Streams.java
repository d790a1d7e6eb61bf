package dev.conveyor.messagequeue.stream;

import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.consume.Consumer;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.consume.ErrorClassifier;
import dev.conveyor.messagequeue.consume.MessageHandler;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import dev.conveyor.messagequeue.wakeup.PgNotifyListener;
import dev.conveyor.messagequeue.wakeup.Wakeups;
import dev.conveyor.supervise.Supervisor;

/**
 * The message-queue runtime of one process on one ledger: the registry, the publisher, wake-ups
 * (in-process, plus LISTEN/NOTIFY on PostgreSQL), replay, retention and consumers. Create one per
 * process and share it, so in-process publishers wake in-process consumers.
 */
public final class Streams implements AutoCloseable {
  private final Ledger ledger;
  private final TopicRegistry registry;
  private final Wakeups wakeups = new Wakeups();
  private final Publisher publisher;
  private final Replay replay;
  private final RetentionGc gc;
  private final PgNotifyListener listener;
  private final Supervisor supervisor;
  private final dev.conveyor.messagequeue.consume.MemberLiveness liveness;

  public Streams(Ledger ledger, TopicRegistry registry) {
    this(ledger, registry, Supervisor.create());
  }

  /** {@code supervisor} keeps every consumer's loops (and the LISTEN thread) alive and reports their health. */
  public Streams(Ledger ledger, TopicRegistry registry, Supervisor supervisor) {
    this.ledger = ledger;
    this.registry = registry;
    this.supervisor = supervisor;
    this.publisher = new Publisher(registry, wakeups, this::membersHere);
    this.replay = new Replay(ledger);
    this.gc = new RetentionGc(ledger, registry);
    this.liveness = new dev.conveyor.messagequeue.consume.MemberLiveness(ledger, wakeups, publisher, supervisor);
    this.listener = ledger.dialect() == Dialect.POSTGRESQL ? new PgNotifyListener(ledger.signals(), wakeups) : null;
  }

  /** This process's consumer-group members (none before the first consumer starts). */
  private java.util.Set<String> membersHere() {
    return liveness == null ? java.util.Set.of() : liveness.members();
  }

  public Ledger ledger() {
    return ledger;
  }

  public Supervisor supervisor() {
    return supervisor;
  }

  public TopicRegistry registry() {
    return registry;
  }

  public Publisher publisher() {
    return publisher;
  }

  public Wakeups wakeups() {
    return wakeups;
  }

  /** The heartbeat of this process's consumer-group members (started by the first consumer). */
  public dev.conveyor.messagequeue.consume.MemberLiveness liveness() {
    return liveness;
  }

  public Replay replay() {
    return replay;
  }

  public RetentionGc retention() {
    return gc;
  }

  /** Starts a member of {@code options.group()} consuming {@code topic}. */
  public Consumer consume(TopicKey topic, ConsumerOptions options, MessageHandler handler) {
    return new Consumer(this, registry.config(topic), options, handler, ErrorClassifier.DEFAULT);
  }

  public Consumer consume(TopicKey topic, ConsumerOptions options, MessageHandler handler,
      ErrorClassifier classifier) {
    return new Consumer(this, registry.config(topic), options, handler, classifier);
  }

  /**
   * Starts the dead-letter reconciler of {@code topic}: a consumer of {@code <topic>.dlq} that
   * hands each dead letter to {@code reconciler} and retries forever rather than drop one.
   */
  public Consumer reconcileDeadLetters(TopicKey topic, ConsumerOptions options,
      dev.conveyor.messagequeue.consume.DeadLetterReconciler reconciler) {
    var dlq = registry.configOfWire(registry.config(topic).dlqWireName()).orElseThrow();
    return new Consumer(this, dlq, options, dev.conveyor.messagequeue.consume.DeadLetterReconciler.asHandler(reconciler),
        ErrorClassifier.ALWAYS_RETRY);
  }

  public dev.conveyor.messagequeue.consume.DeadLetters deadLetters() {
    return new dev.conveyor.messagequeue.consume.DeadLetters(ledger, registry, publisher);
  }

  @Override
  public void close() {
    liveness.close();
    if (listener != null) {
      listener.close();
    }
  }
}
