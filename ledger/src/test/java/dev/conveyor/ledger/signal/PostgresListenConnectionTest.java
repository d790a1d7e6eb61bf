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
      // a 1 s socket timeout: the probe follows after one quiet second and fails after another
      LedgerUrl url = LedgerUrl.parse(proxy.ledgerUrl(pg.name()) + "&socketTimeout=1");
      List<String> heard = new CopyOnWriteArrayList<>();
      try (LedgerSignals signals = new LedgerSignals(url)) {
        signals.listen(CHANNEL, p -> heard.add(String.valueOf(p)));
        signals.acrossProcesses(CHANNEL);
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("null")); // connected: look again
        notifyFromElsewhere("before");
        await().atMost(Duration.ofSeconds(10)).until(() -> heard.contains("before"));

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

  private static void notifyFromElsewhere(String payload) throws Exception {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + PostgresDatabase.HOST + ":"
        + PostgresDatabase.PORT + "/" + pg.name(), "postgres", ""); Statement s = c.createStatement()) {
      s.execute("NOTIFY " + CHANNEL + ", '" + payload + "'");
    }
  }
}
