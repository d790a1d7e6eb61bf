package dev.conveyor.messagequeue.consume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.messagequeue.StreamsTestBase;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;

/**
 * A held partition is read when something wakes it, and only then: a publish reaches the one worker of a
 * member holding eight partitions at once, and an idle member reads none of its partitions while its
 * heartbeat goes on (it used to poll every partition twice a second: most of an idle node's ledger traffic).
 */
public abstract class WokenPartitionContract extends StreamsTestBase {

  @Test
  void partitionsAreReadWhenWokenAndNotPolled() {
    Set<String> delivered = ConcurrentHashMap.newKeySet();
    Consumer consumer = consume(ORDERS, ConsumerOptions.defaults("woken", "m1").withParallelism(1)
        .withLeaseTtl(Duration.ofSeconds(30)), d -> {
          delivered.add(d.message().messageId());
          return Outcome.ack();
        });
    publish(ORDERS, keyFor(0, 8), "warm-up", "x");
    await().atMost(Duration.ofSeconds(30)).until(() -> delivered.contains("warm-up")
        && consumer.ownedPartitions().size() == 8);
    for (int i = 1; i < 8; i++) {
      String id = "m-" + i;
      publish(ORDERS, keyFor(i, 8), id, "x");
      // well inside the heartbeat's period: the publish itself woke the partition
      await().atMost(Duration.ofMillis(900)).until(() -> delivered.contains(id));
    }
    await().atMost(Duration.ofSeconds(10)).until(() -> consumer.drainsStarted() == consumer.drainsEnded());
    long drains = consumer.drainsStarted();
    long beats = streams.liveness().beats();
    await().atMost(Duration.ofSeconds(30)).until(() -> streams.liveness().beats() >= beats + 3);
    assertThat(consumer.drainsStarted()).as("partitions read while idle").isEqualTo(drains);
  }

  @Test
  void aMemberWhosePartitionWasTakenWhileItPausedRebalancesInsteadOfDrainingItAgainAndAgain() {
    Set<String> delivered = ConcurrentHashMap.newKeySet();
    Consumer consumer = consume(ORDERS, ConsumerOptions.defaults("paused", "m1").withParallelism(1), d -> {
      delivered.add(d.message().messageId());
      return Outcome.ack();
    });
    publish(ORDERS, keyFor(0, 8), "warm-up", "x");
    await().atMost(Duration.ofSeconds(30)).until(() -> delivered.contains("warm-up")
        && consumer.ownedPartitions().size() == 8);
    // while m1 paused, another member took partition 0 under its own epoch (and has since gone away)
    ledger.transact(tx -> tx.update("UPDATE mq_group_partitions SET owner = 'm2', lease_epoch = 'theirs'"
        + " WHERE group_name = 'paused' AND partition_no = 0"));
    long drains = consumer.drainsStarted();
    publish(ORDERS, keyFor(0, 8), "after-the-pause", "x");
    // the drain finds its lease gone, the member rebalances at once (m2 is not live: it takes the partition
    // back under a new epoch) and delivers; before, it drained the lost partition on every wake-up until the
    // 5-minute fallback rebalance
    await().atMost(Duration.ofSeconds(10)).until(() -> delivered.contains("after-the-pause"));
    assertThat(consumer.drainsStarted() - drains).as("drains meanwhile").isLessThan(10);
  }

  @Test
  void publishesBehindAHeadThatBacksOffDoNotDrainThePartitionUntilItIsDue() {
    java.util.List<String> delivered = new java.util.concurrent.CopyOnWriteArrayList<>();
    java.util.concurrent.atomic.AtomicBoolean failedOnce = new java.util.concurrent.atomic.AtomicBoolean();
    Consumer consumer = consume(ORDERS, ConsumerOptions.defaults("backoff", "m1").withParallelism(1)
        .withNackBackoff(Duration.ofSeconds(30), Duration.ofSeconds(30)), d -> {
          if (d.message().messageId().equals("head") && failedOnce.compareAndSet(false, true)) {
            return Outcome.nack("not yet");
          }
          delivered.add(d.message().messageId());
          return Outcome.ack();
        });
    publish(ORDERS, keyFor(0, 8), "head", "x");
    await().atMost(Duration.ofSeconds(30)).until(() -> failedOnce.get()
        && consumer.drainsStarted() == consumer.drainsEnded());
    long drains = consumer.drainsStarted();
    for (int i = 0; i < 20; i++) {
      publish(ORDERS, keyFor(0, 8), "behind-" + i, "x");
    }
    long beats = streams.liveness().beats();
    await().atMost(Duration.ofSeconds(30)).until(() -> streams.liveness().beats() >= beats + 2);
    assertThat(consumer.drainsStarted() - drains).as("drains while the head backs off").isZero();
    assertThat(delivered).isEmpty();
  }
}
