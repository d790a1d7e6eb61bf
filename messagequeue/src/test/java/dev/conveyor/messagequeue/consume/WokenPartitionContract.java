package dev.conveyor.messagequeue.consume;

import static org.awaitility.Awaitility.await;

import dev.conveyor.messagequeue.StreamsTestBase;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * A partition woken by a publish is drained before idle partitions merely due a poll: with more partitions
 * than workers, a shared round-robin let empty polls take the only worker round after round, and a
 * message waited a poll interval per round (seconds on a topic keyed by request).
 */
public abstract class WokenPartitionContract extends StreamsTestBase {
  private static final Duration POLL = Duration.ofSeconds(1);

  @Test
  void aWokenPartitionIsDrainedBeforeIdlePartitionsDueAPoll() {
    Set<String> delivered = ConcurrentHashMap.newKeySet();
    consume(ORDERS, ConsumerOptions.defaults("woken", "m1").withParallelism(1).withPollInterval(POLL)
        .withLeaseTtl(Duration.ofSeconds(30)), d -> {
          delivered.add(d.message().messageId());
          return Outcome.ack();
        });
    publish(ORDERS, keyFor(0, 8), "warm-up", "x");
    await().atMost(Duration.ofSeconds(30)).until(() -> delivered.contains("warm-up"));
    for (int i = 1; i < 8; i++) {
      // every other partition is idle past its poll interval, so each competes for the one worker
      await().pollDelay(POLL.plusMillis(200)).atMost(POLL.plusSeconds(1)).until(() -> true);
      String id = "m-" + i;
      publish(ORDERS, keyFor(i, 8), id, "x");
      await().atMost(POLL.minusMillis(100)).until(() -> delivered.contains(id));
    }
  }
}
