package dev.conveyor.durability;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.durability.service.DurabilityRuntime;
import dev.conveyor.durability.signals.SignalWakeups;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.JobWakeups;
import dev.conveyor.ledger.testing.PostgresDatabase;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import dev.conveyor.messagequeue.wakeup.PgNotifyListener;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A process listens on one connection, whatever listens in it: the jobs' wake-ups, the message queue and
 * durable signals share the ledger's LISTEN connection. PostgreSQL wakes every listening backend of the
 * database for every NOTIFY, each wake-up a transaction on the server, so a connection per part tripled
 * what every NOTIFY cost; this counts the listening backends and checks each part still hears the others.
 */
class PostgresOneListenConnectionTest {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  @Test
  void theJobsTheMessageQueueAndDurableSignalsShareOneListenConnection() throws Exception {
    try (Ledger ledger = Ledger.open(pg.url());
        Streams streams = new Streams(ledger, TopicRegistry.builder().build());
        DurabilityRuntime durability = DurabilityRuntime.start(ledger, 4)) {
      ledger.signals().acrossProcesses(JobWakeups.CHANNEL);
      List<String> heard = new CopyOnWriteArrayList<>();
      for (String channel : List.of(JobWakeups.CHANNEL, PgNotifyListener.CHANNEL, SignalWakeups.CHANNEL)) {
        ledger.signals().notifications(channel, p -> heard.add(channel + ":" + p));
      }
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.containsAll(List.of(
          JobWakeups.CHANNEL + ":null", PgNotifyListener.CHANNEL + ":null", SignalWakeups.CHANNEL + ":null")));

      assertThat(listeningBackends()).as("backends of this database listening").isEqualTo(1);

      for (String channel : Set.of(JobWakeups.CHANNEL, PgNotifyListener.CHANNEL, SignalWakeups.CHANNEL)) {
        notifyFromElsewhere(channel, "from-elsewhere");
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(channel + ":from-elsewhere"));
      }
      assertThat(listeningBackends()).isEqualTo(1);
    }
  }

  private static Connection direct() throws Exception {
    return DriverManager.getConnection("jdbc:postgresql://" + PostgresDatabase.HOST + ":" + PostgresDatabase.PORT
        + "/" + pg.name(), "postgres", "");
  }

  private static long listeningBackends() throws Exception {
    try (Connection c = direct(); Statement s = c.createStatement();
        var rs = s.executeQuery(dev.conveyor.ledger.testing.NotifyCounter.LISTENERS_SQL)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static void notifyFromElsewhere(String channel, String payload) throws Exception {
    try (Connection c = direct(); Statement s = c.createStatement()) {
      s.execute("NOTIFY " + channel + ", '" + payload + "'");
    }
  }
}
