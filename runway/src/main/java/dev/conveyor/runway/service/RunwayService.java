package dev.conveyor.runway.service;

import dev.conveyor.messagequeue.consume.Consumer;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.runway.queue.RunwayQueues;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

/**
 * Runway in a process: consumers of the check and merge topics and their dead-letter reconcilers,
 * all in consumer group {@value #GROUP}. Several processes may run it; each request is handled by
 * one member at a time, and the merge's compare-and-swap push keeps concurrent members honest.
 */
public final class RunwayService implements AutoCloseable {
  public static final String GROUP = "runway";

  private final List<Consumer> consumers = new ArrayList<>();

  private RunwayService() {}

  /**
   * Starts consuming. {@code options} supplies the member id and polling; the group is always
   * {@value #GROUP} ({@value #GROUP}-dlq for the reconcilers).
   */
  public static RunwayService start(Streams streams, Merger merger, RunwayQueues queues, ConsumerOptions options) {
    RunwayService service = new RunwayService();
    for (TopicKey topic : List.of(RunwayTopics.CHECK, RunwayTopics.MERGE)) {
      service.consumers.add(streams.consume(topic, withGroup(options, GROUP),
          new MergeRequestHandler(merger, queues, streams.publisher(), topic,
              new dev.conveyor.messagequeue.effects.EffectClaims(streams.ledger()), options.memberId())));
      service.consumers.add(streams.reconcileDeadLetters(topic, withGroup(options, GROUP + "-dlq"),
          new RunwayDeadLetters(streams.publisher(), topic)));
    }
    return service;
  }

  private static ConsumerOptions withGroup(ConsumerOptions o, String group) {
    return new ConsumerOptions(group, o.memberId(), o.parallelism(), o.batchSize(), o.leaseTtl(),
        o.nackBackoff(), o.maxNackBackoff());
  }

  @Override
  public void close() {
    consumers.forEach(c -> c.close(Duration.ofSeconds(10)));
    consumers.clear();
  }
}
