package dev.conveyor.messagequeue.consume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.api.base.DeadLetter;
import dev.conveyor.ledger.LedgerUnavailableException;
import dev.conveyor.messagequeue.StreamsTestBase;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/** Nack with backoff, postpone without attempts, dead letters with their error, reconcilers and redrive. */
public abstract class RetriesAndDeadLettersContract extends StreamsTestBase {

  /** Waits until the group's head is blocked by a recorded nack or postpone, then moves the clock past it. */
  private void awaitBlockedHeadThenAdvance(String group, Duration by) {
    await().atMost(Duration.ofSeconds(30)).until(() -> ledger.transact(tx -> tx.queryLong(
        "SELECT COUNT(*) FROM mq_group_partitions WHERE group_name = ? AND head_not_before > ?", group,
        clock.millis())) > 0);
    clock.advance(by);
  }

  @Test
  void aPoisonMessageEndsInTheDlqAfterMaxAttemptsWithItsErrorAndTheReconcilerSeesIt() {
    AtomicInteger deliveries = new AtomicInteger();
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    consume(WORK, fast("workers", "m"), d -> {
      deliveries.incrementAndGet();
      attempts.add(d.attempt());
      return Outcome.nack("boom on attempt " + d.attempt());
    });
    List<DeadLetter> reconciled = new CopyOnWriteArrayList<>();
    track(streams.reconcileDeadLetters(WORK, fast("work-dlq", "m"), (tx, letter) -> reconciled.add(letter)));

    publish(WORK, "poison", "poison#1", "bad");
    for (int attempt = 1; attempt <= 2; attempt++) {
      int expected = attempt;
      await().atMost(Duration.ofSeconds(30)).until(() -> deliveries.get() >= expected);
      awaitBlockedHeadThenAdvance("workers", Duration.ofSeconds(10)); // past the nack backoff
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> reconciled.size() == 1);
    assertThat(deliveries.get()).isEqualTo(3);
    assertThat(attempts).containsExactly(1, 2, 3);

    DeadLetter letter = reconciled.get(0);
    assertThat(letter.getOriginalTopic()).isEqualTo("test-work");
    assertThat(letter.getAttempts()).isEqualTo(3);
    assertThat(letter.getLastError()).isEqualTo("boom on attempt 3");
    assertThat(letter.getMessageId()).isEqualTo("poison#1");
    assertThat(letter.getGroup()).isEqualTo("workers");
    assertThat(text(letter.getPayload().toByteArray())).isEqualTo("bad");

    var listed = streams.deadLetters().list("test-work", 0, 10);
    assertThat(listed).hasSize(1);
    assertThat(listed.get(0).letter().getLastError()).isEqualTo("boom on attempt 3");
  }

  @Test
  void aTerminalErrorIsDeadLetteredAtOnceAndRedriveRepublishesIt() {
    AtomicInteger calls = new AtomicInteger();
    List<String> acked = new CopyOnWriteArrayList<>();
    consume(WORK, fast("workers", "m"), d -> {
      if (calls.incrementAndGet() == 1) {
        throw new IllegalStateException("cannot parse order");
      }
      acked.add(d.message().messageId());
      return Outcome.ack();
    });
    publish(WORK, "k", "order#1", "payload");
    await().atMost(Duration.ofSeconds(30)).until(() -> !streams.deadLetters().list("test-work", 0, 10).isEmpty());
    var entry = streams.deadLetters().list("test-work", 0, 10).get(0);
    assertThat(entry.letter().getAttempts()).isEqualTo(1);
    assertThat(entry.letter().getLastError()).contains("IllegalStateException").contains("cannot parse order");

    var redriven = streams.deadLetters().redrive("test-work", entry.seq());
    assertThat(redriven.duplicate()).isFalse();
    assertThat(streams.deadLetters().redrive("test-work.dlq", entry.seq()).duplicate()).isTrue();
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() == 1);
    assertThat(acked).containsExactly("order#1#redrive-" + entry.seq());
  }

  @Test
  void postponeDoesNotConsumeAttempts() {
    AtomicInteger deliveries = new AtomicInteger();
    List<String> acked = new CopyOnWriteArrayList<>();
    consume(WORK, fast("workers", "m"), d -> {
      if (deliveries.incrementAndGet() <= 5) {
        assertThat(d.attempt()).isEqualTo(1);
        return Outcome.postpone(Duration.ofSeconds(1));
      }
      acked.add(d.message().messageId());
      return Outcome.ack();
    });
    publish(WORK, "k", "later#1", "x");
    for (int i = 1; i <= 5; i++) {
      int expected = i;
      await().atMost(Duration.ofSeconds(30)).until(() -> deliveries.get() >= expected);
      awaitBlockedHeadThenAdvance("workers", Duration.ofSeconds(1));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() == 1);
    assertThat(streams.deadLetters().list("test-work", 0, 10)).isEmpty();
  }

  @Test
  void aHandlerFailingTransientlyMoreTimesThanMaxAttemptsStillEndsAckedWithoutConsumingAttempts() {
    AtomicInteger deliveries = new AtomicInteger();
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    List<String> acked = new CopyOnWriteArrayList<>();
    consume(WORK, fast("workers", "m"), d -> {
      attempts.add(d.attempt());
      if (deliveries.incrementAndGet() <= 5) { // the topic allows 3 attempts
        throw new LedgerUnavailableException("ledger unavailable (blip " + deliveries.get() + ")", null);
      }
      acked.add(d.message().messageId());
      return Outcome.ack();
    });
    List<DeadLetter> reconciled = new CopyOnWriteArrayList<>();
    track(streams.reconcileDeadLetters(WORK, fast("work-dlq", "m"), (tx, letter) -> reconciled.add(letter)));
    publish(WORK, "k", "blip#1", "x");
    for (int i = 1; i <= 5; i++) {
      int expected = i;
      await().atMost(Duration.ofSeconds(30)).until(() -> deliveries.get() >= expected);
      // the lag view says why the head waits
      await().atMost(Duration.ofSeconds(30)).until(() -> ledger.transact(tx -> tx.queryLong(
          "SELECT COUNT(*) FROM mq_group_partitions WHERE group_name = 'workers' AND head_last_error LIKE ?",
          "%blip " + expected + "%")) == 1);
      awaitBlockedHeadThenAdvance("workers", Duration.ofSeconds(10));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.size() == 1);
    assertThat(attempts).containsExactly(1, 1, 1, 1, 1, 1);
    assertThat(streams.deadLetters().list("test-work", 0, 10)).isEmpty();
    assertThat(reconciled).isEmpty();
  }

  @Test
  void anAckTransactionFailingTransientlyIsRedeliveredWithoutConsumingTheAttempt() {
    AtomicInteger deliveries = new AtomicInteger();
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    ledger.transact(tx -> tx.update("CREATE TABLE IF NOT EXISTS test_effects (id VARCHAR(64) PRIMARY KEY)"));
    consume(WORK, fast("workers", "m"), d -> {
      int n = deliveries.incrementAndGet();
      attempts.add(d.attempt());
      return Outcome.ack(tx -> {
        tx.update("INSERT INTO test_effects (id) VALUES (?)", "effect-" + n);
        if (n <= 3) { // outlasts the ledger's retry budget each time, on a topic of 3 attempts
          throw new java.sql.SQLException("terminating connection due to administrator command", "57P01");
        }
      });
    });
    publish(WORK, "k", "w#1", "x");
    for (int i = 1; i <= 3; i++) {
      int expected = i;
      await().atMost(Duration.ofSeconds(30)).until(() -> deliveries.get() >= expected);
      awaitBlockedHeadThenAdvance("workers", Duration.ofSeconds(10));
    }
    await().atMost(Duration.ofSeconds(30)).until(() -> ledger.transact(tx ->
        tx.query("SELECT id FROM test_effects", rs -> rs.getString(1))).equals(List.of("effect-4")));
    assertThat(attempts).containsExactly(1, 1, 1, 1);
    assertThat(streams.deadLetters().list("test-work", 0, 10)).isEmpty();
    ledger.transact(tx -> tx.update("DROP TABLE test_effects"));
  }

  @Test
  void aFailingAckActionRollsBackAndIsRetried() {
    AtomicInteger deliveries = new AtomicInteger();
    ledger.transact(tx -> tx.update("CREATE TABLE IF NOT EXISTS test_effects (id VARCHAR(64) PRIMARY KEY)"));
    consume(WORK, fast("workers", "m"), d -> {
      int n = deliveries.incrementAndGet();
      return Outcome.ack(tx -> {
        tx.update("INSERT INTO test_effects (id) VALUES (?)", "effect-" + n);
        if (n == 1) {
          throw new dev.conveyor.ledger.OptimisticConflictException("entity changed");
        }
      });
    });
    publish(WORK, "k", "w#1", "x");
    await().atMost(Duration.ofSeconds(30)).until(() -> deliveries.get() == 1);
    awaitBlockedHeadThenAdvance("workers", Duration.ofSeconds(10));
    await().atMost(Duration.ofSeconds(30)).until(() -> deliveries.get() == 2);
    await().atMost(Duration.ofSeconds(30)).until(() -> ledger.transact(tx ->
        tx.query("SELECT id FROM test_effects", rs -> rs.getString(1))).equals(List.of("effect-2")));
    ledger.transact(tx -> tx.update("DROP TABLE test_effects"));
  }

  @Test
  void aHandlerPastItsVisibilityTimeoutIsInterruptedAndRetried() {
    var registry = dev.conveyor.messagequeue.topic.TopicRegistry.builder()
        .register(WORK, dev.conveyor.messagequeue.topic.TopicConfig.defaults("test-work").withPartitions(4)
            .withMaxAttempts(3).withVisibilityTimeout(Duration.ofMillis(300)))
        .build();
    try (var shortVisibility = new dev.conveyor.messagequeue.stream.Streams(ledger, registry)) {
      AtomicInteger deliveries = new AtomicInteger();
      List<String> done = new CopyOnWriteArrayList<>();
      track(shortVisibility.consume(WORK, fast("workers", "m"), d -> {
        if (deliveries.incrementAndGet() == 1) {
          new java.util.concurrent.CountDownLatch(1).await(); // hangs until interrupted
        }
        d.extendVisibility(Duration.ofSeconds(30));
        done.add(d.message().messageId() + "@" + d.attempt());
        return Outcome.ack();
      }));
      publish(WORK, "k", "slow#1", "x");
      await().atMost(Duration.ofSeconds(30)).until(() -> deliveries.get() == 1);
      await().atMost(Duration.ofSeconds(30)).until(() -> ledger.transact(tx -> tx.queryLong(
          "SELECT COUNT(*) FROM mq_group_partitions WHERE group_name = 'workers' AND head_last_error LIKE '%visibility%'"))
          == 1);
      awaitBlockedHeadThenAdvance("workers", Duration.ofSeconds(10));
      await().atMost(Duration.ofSeconds(30)).until(() -> done.size() == 1);
      assertThat(done).containsExactly("slow#1@2");
    }
  }

  // Supervision: an Error inside a consumer's loops neither kills them nor loses the message.

  @Test
  void aHandlerThatThrowsAnErrorHasItsMessageRetriedAndTheDrainGoesOn() {
    AtomicInteger calls = new AtomicInteger();
    List<String> acked = new CopyOnWriteArrayList<>();
    List<Integer> attempts = new CopyOnWriteArrayList<>();
    consume(WORK, fast("workers", "m"), d -> {
      attempts.add(d.attempt());
      if (calls.incrementAndGet() == 1) {
        throw new StackOverflowError("injected into the handler");
      }
      acked.add(d.message().messageId());
      return Outcome.ack();
    });
    String key = keyFor(0, 4);
    publish(WORK, key, "first", "a");
    awaitBlockedHeadThenAdvance("workers", Duration.ofSeconds(10)); // nacked with backoff, not dropped
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.contains("first"));
    publish(WORK, key, "second", "b");
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.contains("second"));
    assertThat(attempts).containsExactly(1, 2, 1);
    assertThat(streams.deadLetters().list("test-work", 0, 10)).isEmpty();
  }

  @Test
  void anErrorInTheCoordinatorIsCountedAndTheCoordinatorRunsAgain() {
    clock.failOnceOn("coordinator-workers-", new OutOfMemoryError("injected into the coordinator"));
    List<String> acked = new CopyOnWriteArrayList<>();
    consume(WORK, fast("workers", "m"), d -> {
      acked.add(d.message().messageId());
      return Outcome.ack();
    });
    await().atMost(Duration.ofSeconds(30)).until(() -> streams.supervisor().failures("coordinator:workers") == 1);
    assertThat(clock.faultPending()).isFalse();
    publish(WORK, "k", "after-the-error", "x");
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.contains("after-the-error"));
  }

  @Test
  void anErrorInAPartitionDrainIsCountedAndThePartitionIsDrainedLater() {
    List<String> acked = new CopyOnWriteArrayList<>();
    consume(WORK, fast("workers", "m"), d -> {
      acked.add(d.message().messageId());
      return Outcome.ack();
    });
    publish(WORK, "k", "warm-up", "x");
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.contains("warm-up"));
    clock.failOnceOn("consumer-workers", new InternalError("injected into a drain"));
    publish(WORK, "k", "during-the-error", "y");
    await().atMost(Duration.ofSeconds(30)).until(() -> acked.contains("during-the-error"));
    assertThat(streams.supervisor().failures("drain:workers")).isEqualTo(1);
    assertThat(streams.supervisor().healthy()).isTrue();
  }
}
