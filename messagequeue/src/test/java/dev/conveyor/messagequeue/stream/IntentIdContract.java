package dev.conveyor.messagequeue.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.messagequeue.StreamsTestBase;
import dev.conveyor.messagequeue.consume.Outcome;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;

/** Message id = intent id: a repeated hand-off is delivered once, a new cause is always delivered. */
public abstract class IntentIdContract extends StreamsTestBase {

  @Test
  void aHandOffPublishedTwiceIsDeliveredOnce() {
    String id = IntentId.of("request-1", "validated");
    PublishResult first = publish(ORDERS, "request-1", id, "a");
    PublishResult second = publish(ORDERS, "request-1", id, "a");
    assertThat(first.duplicate()).isFalse();
    assertThat(second.duplicate()).isTrue();
    assertThat(second.seq()).isEqualTo(first.seq());

    List<String> seen = new CopyOnWriteArrayList<>();
    consume(ORDERS, fast("g", "m"), d -> {
      seen.add(d.message().messageId());
      return Outcome.ack();
    });
    publish(ORDERS, "request-1", IntentId.of("request-1", "marker"), "m");
    await().atMost(Duration.ofSeconds(30)).until(() -> seen.contains("request-1#marker"));
    assertThat(seen).containsExactly(id, "request-1#marker");
    // still deduplicated after it was consumed, while it is retained
    assertThat(publish(ORDERS, "request-1", id, "a").duplicate()).isTrue();
  }

  @Test
  void wakeUpsWithDifferentCausesAreAllDeliveredEvenAfterTheFirstWasConsumed() {
    List<String> seen = new CopyOnWriteArrayList<>();
    consume(ORDERS, fast("g", "m"), d -> {
      seen.add(d.message().messageId());
      return Outcome.ack();
    });
    publish(ORDERS, "batch-9", IntentId.of("batch-9", "dependency-batch-3-succeeded"), "wake");
    await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 1);
    publish(ORDERS, "batch-9", IntentId.of("batch-9", "dependency-batch-4-failed"), "wake");
    await().atMost(Duration.ofSeconds(30)).until(() -> seen.size() == 2);
    assertThat(seen).containsExactly("batch-9#dependency-batch-3-succeeded", "batch-9#dependency-batch-4-failed");
  }

  @Test
  void publishAllSequencesEachPartitionGapFreeAndDedupesWithinAndAcrossBatches() {
    String k0 = keyFor(0, 8);
    String k1 = keyFor(1, 8);
    publish(ORDERS, k0, "a#1", "x");
    List<PublishResult> results = ledger.transact(tx -> streams.publisher().publishAll(tx, List.of(
        new Outgoing(ORDERS, k1, "b#1", "1".getBytes()),
        new Outgoing(ORDERS, k0, "a#1", "dup of an earlier batch".getBytes()),
        new Outgoing(ORDERS, k0, "a#2", "2".getBytes()),
        new Outgoing(ORDERS, k1, "b#1", "dup within this batch".getBytes()),
        new Outgoing(ORDERS, k1, "b#2", "3".getBytes()))));
    assertThat(results).extracting(PublishResult::partition).containsExactly(1, 0, 0, 1, 1);
    assertThat(results).extracting(PublishResult::seq).containsExactly(1L, 1L, 2L, 1L, 2L);
    assertThat(results).extracting(PublishResult::duplicate).containsExactly(false, true, false, true, false);
    assertThat(streams.replay().after("test-orders", 0, 0, 10).messages()).extracting(StreamMessage::messageId)
        .containsExactly("a#1", "a#2");
    assertThat(streams.replay().after("test-orders", 1, 0, 10).messages()).extracting(StreamMessage::messageId)
        .containsExactly("b#1", "b#2");
  }

  @Test
  void publishAfterHoldsTheMessageUntilDue() {
    List<String> seen = new CopyOnWriteArrayList<>();
    Boolean scheduled = ledger.transact(tx -> streams.publisher().publishAfter(tx, ORDERS, "k", "later#1",
        "x".getBytes(), Duration.ofMinutes(5)));
    assertThat(scheduled).isTrue();
    Boolean again = ledger.transact(tx -> streams.publisher().publishAfter(tx, ORDERS, "k", "later#1", "x".getBytes(),
        Duration.ofMinutes(5)));
    assertThat(again).isFalse();
    Integer pumped = ledger.transact(tx -> streams.publisher().pumpDue(tx, 10));
    assertThat(pumped).isZero();
    clock.advance(Duration.ofMinutes(5));
    consume(ORDERS, fast("g", "m"), d -> {
      seen.add(d.message().messageId());
      return Outcome.ack();
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> seen.contains("later#1"));
    assertThat(seen).containsExactly("later#1");
  }
}
