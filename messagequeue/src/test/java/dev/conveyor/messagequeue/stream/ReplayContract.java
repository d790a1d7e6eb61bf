package dev.conveyor.messagequeue.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.LedgerOptions;
import dev.conveyor.messagequeue.StreamsTestBase;
import dev.conveyor.messagequeue.consume.Outcome;
import java.time.Duration;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Durable cursors, replay in order, explicit gaps after retention GC, and sequences that survive restarts. */
public abstract class ReplayContract extends StreamsTestBase {

  @Test
  void replayReportsAGapBelowTheRetainedWindowAndSequencesContinueAfterRestart() {
    String key = keyFor(0, 4);
    for (int i = 1; i <= 10; i++) {
      publish(WORK, key, "m" + i, "body " + i);
    }
    Replay.Page all = streams.replay().after("test-work", 0, 0, 100);
    assertThat(all.gap()).isEmpty();
    assertThat(all.messages()).extracting(StreamMessage::seq).containsExactly(1L, 2L, 3L, 4L, 5L, 6L, 7L, 8L, 9L, 10L);

    AtomicInteger acked = new AtomicInteger();
    var consumer = consume(WORK, fast("g", "m"), d -> {
      acked.incrementAndGet();
      return Outcome.ack();
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.get() == 10);
    consumer.close(Duration.ofSeconds(5));
    assertThat(streams.retention().collect()).isEqualTo(10);

    Replay.Page afterGc = streams.replay().after("test-work", 0, 3, 100);
    assertThat(afterGc.gap()).contains(new Replay.Gap(3, 11));
    assertThat(afterGc.gap().get().missing()).isEqualTo(7);
    assertThat(afterGc.messages()).isEmpty();

    ledger.transact(tx -> {
      streams.replay().advanceCursor(tx, "auditor", "test-work", 0, 10);
      streams.replay().advanceCursor(tx, "auditor", "test-work", 0, 4); // never moves back
      return null;
    });
    streams.close();
    ledger.close();

    ledger = Ledger.open(LedgerOptions.defaults(ledgerUrl()).withClock(clock).withRetryPolicy(TEST_RETRY));
    streams = new Streams(ledger, registry());
    assertThat(streams.replay().cursor("auditor", "test-work", 0)).isEqualTo(10);
    PublishResult next = publish(WORK, key, "m11", "after restart");
    assertThat(next.seq()).isEqualTo(11);
    Replay.Page fromCursor = streams.replay().after("test-work", 0, 10, 100);
    assertThat(fromCursor.gap()).isEmpty();
    assertThat(fromCursor.messages()).extracting(StreamMessage::messageId).containsExactly("m11");
  }

  @Test
  void gcKeepsWhatAGroupHasNotAcked() {
    String key = keyFor(1, 4);
    for (int i = 1; i <= 5; i++) {
      publish(WORK, key, "m" + i, "b");
    }
    var consumer = consume(WORK, fast("slow", "m"), d -> Outcome.postpone(Duration.ofHours(1)));
    await().atMost(Duration.ofSeconds(30)).until(() -> ledger.transact(tx -> tx.queryLong(
        "SELECT COUNT(*) FROM mq_group_partitions WHERE group_name = 'slow' AND head_not_before > 0")) > 0);
    consumer.close(Duration.ofSeconds(5));
    assertThat(streams.retention().collect()).isZero();
    assertThat(streams.replay().after("test-work", 1, 0, 100).messages()).hasSize(5);
  }
}
