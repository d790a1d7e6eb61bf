package dev.conveyor.submitqueue.pipeline;

import dev.conveyor.messagequeue.consume.Consumer;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.consume.DeadLetterReconciler;
import dev.conveyor.messagequeue.consume.MessageHandler;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.runway.service.RunwayTopics;
import dev.conveyor.submitqueue.batch.BatchStage;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.build.BuildSignalStage;
import dev.conveyor.submitqueue.cancel.CancelStage;
import dev.conveyor.submitqueue.cancel.Cancellation;
import dev.conveyor.submitqueue.checksignal.CheckSignalStage;
import dev.conveyor.submitqueue.conclude.ConcludeStage;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.deadletter.StageDeadLetters;
import dev.conveyor.submitqueue.merge.MergeStage;
import dev.conveyor.submitqueue.mergesignal.MergeSignalStage;
import dev.conveyor.submitqueue.speculate.SpeculateStage;
import dev.conveyor.submitqueue.speculate.SpeculationPlanner;
import dev.conveyor.submitqueue.start.Admission;
import dev.conveyor.submitqueue.start.StartStage;
import dev.conveyor.submitqueue.validate.ValidateStage;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * SubmitQueue's stages as consumer groups ({@code submitqueue-<stage>}), each with a dead-letter
 * reconciler, plus a slow sweep that re-plans queues with active batches (so a build whose job
 * ran out of attempts without a signal is still noticed).
 */
public final class SubmitQueuePipeline implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SubmitQueuePipeline.class);
  public static final Duration SWEEP_INTERVAL = Duration.ofSeconds(30);
  /** The stages, by the names their consumer groups ({@code submitqueue-<stage>}) and counts carry. */
  public static final java.util.List<String> STAGES = java.util.List.of("start", "validate", "checksignal", "batch",
      "cancel", "speculate", "buildsignal", "merge", "mergesignal", "conclude");

  private final StageContext ctx;
  private final List<Consumer> consumers = new ArrayList<>();
  private final ScheduledExecutorService sweeper;
  private final SpeculateStage speculate;
  private final StageOutcomes outcomes;

  private SubmitQueuePipeline(StageContext ctx, ScheduledExecutorService sweeper, StageOutcomes outcomes) {
    this.ctx = ctx;
    this.outcomes = outcomes;
    this.sweeper = sweeper;
    this.speculate = new SpeculateStage(ctx);
  }

  public static StageContext context(Streams streams, SubmitQueues queues, Merger merger) {
    Signals signals = new Signals(streams.publisher());
    return new StageContext(streams.ledger(), queues, signals, merger,
        new SpeculationPlanner(streams.ledger().jobs(), signals));
  }

  /**
   * Starts every stage. {@code decorator} wraps each stage handler (identity in production; tests
   * use it to force redeliveries).
   */
  public static SubmitQueuePipeline start(Streams streams, SubmitQueues queues, Merger merger,
      ConsumerOptions options, StageDecorator decorator) {
    return start(streams, queues, merger, options, decorator, new StageOutcomes());
  }

  /** As above, counting each stage's outcomes into {@code outcomes} (which metrics read). */
  public static SubmitQueuePipeline start(Streams streams, SubmitQueues queues, Merger merger,
      ConsumerOptions options, StageDecorator decorator, StageOutcomes outcomes) {
    StageContext ctx = context(streams, queues, merger);
    ScheduledExecutorService sweeper = Executors.newSingleThreadScheduledExecutor(r -> {
      Thread t = new Thread(r, "submitqueue-sweep");
      t.setDaemon(true);
      return t;
    });
    SubmitQueuePipeline p = new SubmitQueuePipeline(ctx, sweeper, outcomes);
    p.stage(streams, options, decorator, SubmitQueueTopics.START, "start", new StartStage(ctx.signals()),
        StageDeadLetters.requestScoped(ctx, "request_id"));
    p.stage(streams, options, decorator, SubmitQueueTopics.VALIDATE, "validate", new ValidateStage(ctx),
        StageDeadLetters.requestScoped(ctx, "request_id"));
    p.stage(streams, options, decorator, RunwayTopics.CHECK_SIGNAL, "checksignal", new CheckSignalStage(ctx),
        StageDeadLetters.requestScoped(ctx, "id"));
    p.stage(streams, options, decorator, SubmitQueueTopics.BATCH, "batch", new BatchStage(ctx),
        StageDeadLetters.requestScoped(ctx, "request_id"));
    p.stage(streams, options, decorator, SubmitQueueTopics.CANCEL, "cancel", new CancelStage(ctx),
        StageDeadLetters.requestScoped(ctx, "request_id"));
    p.stage(streams, options, decorator, SubmitQueueTopics.SPECULATE, "speculate", p.speculate,
        StageDeadLetters.batchScoped(ctx, "batch_id"));
    p.stage(streams, options, decorator, SubmitQueueTopics.BUILDSIGNAL, "buildsignal", new BuildSignalStage(ctx),
        StageDeadLetters.batchScoped(ctx, "batch_id"));
    p.stage(streams, options, decorator, SubmitQueueTopics.MERGE, "merge", new MergeStage(ctx),
        StageDeadLetters.batchScoped(ctx, "batch_id"));
    p.stage(streams, options, decorator, RunwayTopics.MERGE_SIGNAL, "mergesignal", new MergeSignalStage(ctx),
        StageDeadLetters.mergeResults(ctx));
    p.stage(streams, options, decorator, SubmitQueueTopics.CONCLUDE, "conclude", new ConcludeStage(ctx),
        StageDeadLetters.batchScoped(ctx, "batch_id"));
    if (queues.all().stream().anyMatch(q -> queues.webhook(q.name()).isPresent())) {
      // delivery only: an event that cannot be delivered stays in the dead-letter topic for inspection
      p.consumers.add(streams.consume(dev.conveyor.submitqueue.notify.Notifications.TOPIC,
          withGroup(options, "submitqueue-webhook"), outcomes.counting("webhook",
              new dev.conveyor.submitqueue.notify.WebhookDelivery(queues))));
    }
    sweeper.scheduleWithFixedDelay(streams.supervisor().periodic("submitqueue-sweep", p::sweep),
        SWEEP_INTERVAL.toMillis(), SWEEP_INTERVAL.toMillis(),
        TimeUnit.MILLISECONDS);
    return p;
  }

  private void stage(Streams streams, ConsumerOptions options, StageDecorator decorator,
      TopicKey topic, String name, MessageHandler handler, DeadLetterReconciler deadLetters) {
    consumers.add(streams.consume(topic, withGroup(options, "submitqueue-" + name), decorator.decorate(name,
        outcomes.counting(name, handler))));
    consumers.add(streams.reconcileDeadLetters(topic, withGroup(options, "submitqueue-" + name + "-dlq"),
        deadLetters));
  }

  private void sweep() {
    try {
      long bucket = ctx.ledger().clock().millis() / SWEEP_INTERVAL.toMillis();
      for (SubmitQueueConfig q : ctx.queues().all()) {
        ctx.ledger().transact(tx -> {
          List<String> active = Batches.active(tx, q.name());
          if (!active.isEmpty()) {
            ctx.signals().batch(tx, SubmitQueueTopics.SPECULATE, q.name(), active.get(0), "sweep-" + bucket);
          }
          return null;
        });
      }
    } catch (RuntimeException e) {
      log.warn("submitqueue sweep: {}", e.getMessage());
    }
  }

  static ConsumerOptions withGroup(ConsumerOptions o, String group) {
    return new ConsumerOptions(group, o.memberId(), o.parallelism(), o.batchSize(), o.leaseTtl(),
        o.nackBackoff(), o.maxNackBackoff());
  }

  public StageContext context() {
    return ctx;
  }

  /** What each stage did with the messages it received, since start. */
  public StageOutcomes outcomes() {
    return outcomes;
  }

  /** Planning passes run, and events a committed pass had already covered. */
  public SpeculateStage.Counts speculation() {
    return speculate.counts();
  }

  public Admission admission() {
    return new Admission(ctx.queues(), ctx.signals());
  }

  public Cancellation cancellation() {
    return new Cancellation(ctx.signals());
  }

  @Override
  public void close() {
    sweeper.shutdownNow();
    consumers.forEach(c -> c.close(Duration.ofSeconds(10)));
    consumers.clear();
  }
}
