package dev.conveyor.messagequeue.consume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.testing.ChildJvm;
import dev.conveyor.messagequeue.StreamsTestBase;
import dev.conveyor.messagequeue.stream.Streams;
import java.time.Duration;
import org.junit.jupiter.api.Test;

/**
 * Three members of one group; one is a child JVM killed with SIGKILL mid-work. Its partitions are
 * taken over after lease expiry, nothing is lost, and redelivered messages are processed once.
 */
public abstract class RebalanceContract extends StreamsTestBase {
  private static final int MESSAGES = 300;

  @Test
  void aMemberBackFromAnOutageTakesNothingFromLapsedMembersUntilItHasBeenLiveForTheTtl() {
    var topic = dev.conveyor.messagequeue.topic.TopicConfig.defaults("test-orders").withPartitions(8);
    GroupPartitions state = new GroupPartitions("outage", topic.wireName(), 8, topic.dlqWireName(),
        topic.maxAttempts(), streams.publisher());
    java.time.Duration ttl = java.time.Duration.ofSeconds(3);
    ledger.transact(tx -> {
      state.ensureRows(tx);
      // b held every partition; then the database was out longer than the TTL, so every row lapsed
      MemberLiveness.upsert(tx, "b", ttl, clock.millis() - 60_000);
      MemberLiveness.upsert(tx, "a", ttl, clock.millis() - 60_000);
      tx.update("INSERT INTO mq_members (group_name, member_id, expires_at) VALUES ('outage', 'b', 0)");
      tx.update("UPDATE mq_group_partitions SET owner = 'b', lease_epoch = 'b-epoch' WHERE group_name = 'outage'");
      return null;
    });
    clock.advance(java.time.Duration.ofSeconds(10));
    // a beats first when the database is back: its liveness starts again now, and b's row has not come back yet
    GroupPartitions.Held first = ledger.transact(tx -> {
      MemberLiveness.upsert(tx, "a", ttl, clock.millis());
      return state.rebalance(tx, "a", java.util.Set.of(), ttl.toMillis());
    });
    assertThat(first.partitions()).as("taken from a member that may be back any moment").isEmpty();
    assertThat(first.deferred()).isTrue();

    clock.advance(ttl);
    // b never came back: a, live for a TTL now, takes its partitions
    GroupPartitions.Held later = ledger.transact(tx -> {
      MemberLiveness.upsert(tx, "a", ttl, clock.millis());
      return state.rebalance(tx, "a", java.util.Set.of(), ttl.toMillis());
    });
    assertThat(later.partitions()).hasSize(8);
    assertThat(later.deferred()).isFalse();
  }

  @Test
  void partitionsOfAKilledMemberAreTakenOverAndNothingIsLost() throws Exception {
    ledger.transact(tx -> {
      tx.update("DROP TABLE IF EXISTS test_processed");
      tx.update("DROP TABLE IF EXISTS test_deliveries");
      tx.update("CREATE TABLE test_processed (message_id VARCHAR(64) PRIMARY KEY, member VARCHAR(64))");
      tx.update("CREATE TABLE test_deliveries (message_id VARCHAR(64), member VARCHAR(64))");
      return null;
    });
    for (int i = 0; i < MESSAGES; i++) {
      publish(ORDERS, "key-" + i, "msg-" + i, "body");
    }
    ch.qos.logback.classic.Logger takeovers = (ch.qos.logback.classic.Logger)
        org.slf4j.LoggerFactory.getLogger(GroupPartitions.class);
    ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
        new ch.qos.logback.core.read.ListAppender<>();
    logs.start();
    takeovers.addAppender(logs);
    // Every member runs on the wall clock, as separate nodes would.
    try (Ledger wallClock = Ledger.open(ledgerUrl());
         Streams nodeStreams = new Streams(wallClock, registry());
         ChildJvm child = ChildJvm.start(ConsumerNode.class, ledgerUrl(), "child", "100")) {
      child.readUntil("STARTED");
      await().atMost(Duration.ofSeconds(60)).until(() -> count(wallClock,
          "SELECT COUNT(*) FROM test_deliveries WHERE member = 'child'") >= 3);
      Consumer a = ConsumerNode.start(nodeStreams, "node-a", Duration.ZERO);
      Consumer b = ConsumerNode.start(nodeStreams, "node-b", Duration.ZERO);
      try {
        await().atMost(Duration.ofSeconds(60)).until(() -> !a.ownedPartitions().isEmpty()
            && !b.ownedPartitions().isEmpty());
        child.kill();
        long childProcessed = count(wallClock, "SELECT COUNT(*) FROM test_processed WHERE member = 'child'");
        assertThat(childProcessed).isLessThan(MESSAGES);

        await().atMost(Duration.ofSeconds(120)).until(() ->
            count(wallClock, "SELECT COUNT(*) FROM test_processed") == MESSAGES);
        assertThat(count(wallClock, "SELECT COUNT(DISTINCT message_id) FROM test_deliveries")).isEqualTo(MESSAGES);
        assertThat(count(wallClock, "SELECT COUNT(*) FROM test_deliveries")).isGreaterThanOrEqualTo(MESSAGES);
        assertThat(count(wallClock, "SELECT COALESCE(SUM(takeovers), 0) FROM mq_group_partitions"
            + " WHERE group_name = 'rebalance'")).isPositive();
        await().atMost(Duration.ofSeconds(30)).until(() -> a.ownedPartitions().size()
            + b.ownedPartitions().size() == 8);
        // each takeover is said at INFO: who took which partition from whom, after how long
        assertThat(logs.list).filteredOn(e -> e.getLevel() == ch.qos.logback.classic.Level.INFO)
            .extracting(ch.qos.logback.classic.spi.ILoggingEvent::getFormattedMessage)
            .anySatisfy(line -> assertThat(line).matches(
                "\\S*node-[ab]\\S* took \\S+\\[\\d+\\] of group rebalance from \\S*child\\S*, whose lease had lapsed"
                + " \\d+ ms before"));
      } finally {
        takeovers.detachAppender(logs);
        a.close(Duration.ofSeconds(5));
        b.close(Duration.ofSeconds(5));
      }
    }
  }

  private static long count(Ledger l, String sql) {
    return l.transact(tx -> tx.queryLong(sql));
  }
}
