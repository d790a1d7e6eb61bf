package dev.conveyor.ledger.signal;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.ledger.LedgerUrl;
import dev.conveyor.ledger.testing.FlakyProxy;
import dev.conveyor.ledger.testing.PostgresDatabase;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * A LISTEN connection whose network went silent (no reset, no close) notices it, reconnects, and tells its
 * listeners to look again; signals raised after that reach it. Without the probe it would wait forever,
 * deaf to every other process.
 */
class PostgresListenConnectionTest {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  private static final String CHANNEL = "conveyor_listen_probe";

  @Test
  void aListenerWhoseConnectionWasBlackHoledReconnectsAndHearsAgain() throws Exception {
    try (FlakyProxy proxy = new FlakyProxy(PostgresDatabase.HOST, PostgresDatabase.PORT)) {
      // the pool's socketTimeout=0 (no timeout) must not reach the LISTEN connection: its own probe follows
      // after one quiet second here, and fails after another
      LedgerUrl url = LedgerUrl.parse(proxy.ledgerUrl(pg.name()) + "&socketTimeout=0&ApplicationName=node-x");
      List<String> heard = new CopyOnWriteArrayList<>();
      try (LedgerSignals signals = new LedgerSignals(url, Duration.ofSeconds(1))) {
        signals.listen(CHANNEL, p -> heard.add(String.valueOf(p)));
        signals.acrossProcesses(CHANNEL);
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("null")); // connected: look again
        notifyFromElsewhere("before");
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("before"));
        assertThat(listeningBackends()).as("named 'node-x conveyor-listen'").isEqualTo(1);

        heard.clear();
        proxy.blackHoleOpenConnections();
        notifyFromElsewhere("lost in the hole");
        await().atMost(Duration.ofSeconds(20)).until(() -> heard.contains("null")); // reconnected: look again
        notifyFromElsewhere("after");
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("after"));
        assertThat(heard).doesNotContain("lost in the hole");
      }
    }
  }

  @Test
  void aChannelAskedForLaterIsListenedOnTheSameConnectionAndLooksAgainFirst() throws Exception {
    List<String> heard = new CopyOnWriteArrayList<>();
    try (LedgerSignals signals = new LedgerSignals(LedgerUrl.parse(pg.url()))) {
      signals.notifications(CHANNEL, p -> heard.add(CHANNEL + ":" + p));
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(CHANNEL + ":null"));
      String later = CHANNEL + "_later";
      AutoCloseable subscription = signals.notifications(later, p -> heard.add(later + ":" + p));
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(later + ":null"));
      assertThat(heard).containsOnlyOnce(CHANNEL + ":null"); // the first channel was not disturbed
      notifyFromElsewhere(later, "late");
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(later + ":late"));
      assertThat(listeningBackends()).isEqualTo(1);

      // a sink that comes to a channel already listened on is told to look again too
      signals.notifications(later, p -> heard.add("second:" + p));
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("second:null"));

      subscription.close();
      notifyFromElsewhere(later, "unheard");
      notifyFromElsewhere(CHANNEL, "heard");
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains(CHANNEL + ":heard"));
      assertThat(heard).doesNotContain(later + ":unheard"); // NOTIFYs arrive in commit order
    }
  }

  @Test
  void aSinkThatThrowsAnErrorDoesNotCostTheOthersTheirSignalsNorTheConnection() throws Exception {
    List<String> heard = new CopyOnWriteArrayList<>();
    try (LedgerSignals signals = new LedgerSignals(LedgerUrl.parse(pg.url()))) {
      signals.notifications(CHANNEL, p -> {
        throw new AssertionError("a broken sink");
      });
      signals.notifications(CHANNEL, p -> heard.add(String.valueOf(p)));
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("null"));
      notifyFromElsewhere("one");
      notifyFromElsewhere("two");
      await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("two"));
      assertThat(heard).containsExactly("null", "one", "two"); // no reconnection, so no second look-again
    }
  }

  private static long listeningBackends() throws Exception {
    try (Connection c = direct(); Statement s = c.createStatement();
        var rs = s.executeQuery(dev.conveyor.ledger.testing.NotifyCounter.LISTENERS_SQL)) {
      rs.next();
      return rs.getLong(1);
    }
  }

  private static Connection direct() throws Exception {
    return DriverManager.getConnection("jdbc:postgresql://" + PostgresDatabase.HOST + ":"
        + PostgresDatabase.PORT + "/" + pg.name(), "postgres", "");
  }

  private static void notifyFromElsewhere(String payload) throws Exception {
    notifyFromElsewhere(CHANNEL, payload);
  }

  private static void notifyFromElsewhere(String channel, String payload) throws Exception {
    try (Connection c = direct(); Statement s = c.createStatement()) {
      s.execute("NOTIFY " + channel + ", '" + payload + "'");
    }
  }
}
