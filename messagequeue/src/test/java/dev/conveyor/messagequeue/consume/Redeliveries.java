package dev.conveyor.messagequeue.consume;

import dev.conveyor.messagequeue.stream.StreamMessage;
import java.time.Duration;
import java.util.concurrent.ScheduledExecutorService;

/**
 * Deliveries made by hand, for tests of a handler that play a redelivery: the same message handed over
 * again as if its first delivery's node died before the ack committed.
 */
public final class Redeliveries {
  private Redeliveries() {}

  public static Delivery of(StreamMessage message, int attempt, String group, ScheduledExecutorService scheduler) {
    return new Delivery(message, attempt, group, new VisibilityTimer(scheduler, Thread.currentThread(),
        Duration.ofHours(1)));
  }
}
