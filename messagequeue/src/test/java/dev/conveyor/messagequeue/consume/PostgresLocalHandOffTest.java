package dev.conveyor.messagequeue.consume;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.testing.NotifyCounter;
import dev.conveyor.ledger.testing.PostgresDatabase;
import dev.conveyor.messagequeue.StreamsTestBase;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.wakeup.PgNotifyListener;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A publish whose partitions are held only by this process's members wakes them after the commit and sends
 * no NOTIFY: PostgreSQL would wake every listening process for it, one transaction each, for nothing. Once
 * another process holds one of them (another group's member) or the publisher holds none, the NOTIFY goes
 * out and reaches the holder well inside a heartbeat.
 */
class PostgresLocalHandOffTest extends StreamsTestBase {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  @Override
  protected String ledgerUrl() {
    return pg.url();
  }

  @Test
  void aHandOffWithinOneProcessSendsNoNotifyAndOneAcrossProcessesDoes() throws Exception {
    Set<String> here = ConcurrentHashMap.newKeySet();
    Consumer local = consume(ORDERS, fast("here", "node-a"), d -> {
      here.add(d.message().messageId());
      return Outcome.ack();
    });
    publish(ORDERS, keyFor(0, 8), "warm-up", "x");
    await().atMost(Duration.ofSeconds(30)).until(() -> here.contains("warm-up") && local.ownedPartitions().size() == 8);

    try (NotifyCounter notifies = new NotifyCounter("jdbc:postgresql://" + PostgresDatabase.HOST + ":"
        + PostgresDatabase.PORT + "/" + pg.name(), List.of(PgNotifyListener.CHANNEL))) {
      for (int i = 1; i <= 5; i++) {
        String id = "local-" + i;
        publish(ORDERS, keyFor(i, 8), id, "x");
        await().atMost(Duration.ofMillis(900)).until(() -> here.contains(id));
      }
      assertThat(notifies.received()).as("NOTIFYs for hand-offs held in this process").isZero();

      try (Ledger otherLedger = Ledger.open(pg.url()); Streams other = new Streams(otherLedger, registry())) {
        // a publisher holding nothing: the holder is elsewhere, so it must hear
        otherLedger.transact(tx -> other.publisher().publish(tx, ORDERS, keyFor(6, 8), "from-elsewhere",
            "x".getBytes(StandardCharsets.UTF_8)));
        await().atMost(Duration.ofMillis(900)).until(() -> here.contains("from-elsewhere"));
        await().atMost(Duration.ofSeconds(5)).until(() -> notifies.received() == 1);

        // a second group whose member lives in the other process: this process's publishes must reach it
        Set<String> there = ConcurrentHashMap.newKeySet();
        Consumer remote = other.consume(ORDERS, fast("there", "node-b"), d -> {
          there.add(d.message().messageId());
          return Outcome.ack();
        });
        try {
          await().atMost(Duration.ofSeconds(30)).until(() -> remote.ownedPartitions().size() == 8
              && there.contains("from-elsewhere"));
          long before = notifies.received();
          publish(ORDERS, keyFor(7, 8), "to-both", "x");
          await().atMost(Duration.ofMillis(900)).until(() -> there.contains("to-both") && here.contains("to-both"));
          await().atMost(Duration.ofSeconds(5)).until(() -> notifies.received() == before + 1);
        } finally {
          remote.close(Duration.ofSeconds(5));
        }
      }
    }
  }
}
