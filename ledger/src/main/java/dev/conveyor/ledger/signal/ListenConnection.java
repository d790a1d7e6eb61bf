package dev.conveyor.ledger.signal;

import dev.conveyor.ledger.LedgerUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.time.Duration;
import java.util.Properties;

/**
 * Opens a LISTEN connection that notices when it is dead. A LISTEN connection only reads, so a peer that
 * went away without a TCP reset (a NAT or firewall dropped the idle flow, the database host vanished)
 * leaves it waiting for notifications forever, deaf to every other process. So the connection has TCP
 * keep-alive and a network timeout of its own ({@link #PROBE_AFTER}, whatever {@code socketTimeout} the
 * ledger URL gives its pool), and {@link #probeIfQuiet} asks the server {@code SELECT 1} once nothing was
 * heard for that long: a dead connection then fails within about twice that, and its listener reconnects
 * and looks again at whatever it may have missed.
 */
public final class ListenConnection implements AutoCloseable {
  /** Quiet time before a probe, and how long the probe (or any read) may wait for the server. */
  static final Duration PROBE_AFTER = Duration.ofSeconds(10);

  /** What a LISTEN connection calls itself in {@code pg_stat_activity} (after the URL's own name, if any). */
  public static final String APPLICATION_NAME = "conveyor-listen";

  private final Connection connection;
  private final long quietNanos;
  private long lastHeard = System.nanoTime();

  private ListenConnection(Connection connection, long quietNanos) {
    this.connection = connection;
    this.quietNanos = quietNanos;
  }

  /**
   * Connects with the ledger's settings, then sets this connection's own network timeout ({@code
   * probeAfter}; the URL's {@code socketTimeout} is the pool's business, and 0 would let a probe hang) and
   * names it, after the URL's {@code ApplicationName} if it has one, so an operator sees which backends
   * LISTEN.
   */
  static ListenConnection open(LedgerUrl url, Duration probeAfter) throws SQLException {
    Properties p = new Properties();
    p.putAll(url.properties());
    p.putIfAbsent("tcpKeepAlive", "true");
    Connection c = DriverManager.getConnection(url.jdbcUrl(), p);
    try {
      c.setNetworkTimeout(Runnable::run, Math.toIntExact(probeAfter.toMillis()));
      String named = c.getClientInfo("ApplicationName");
      c.setClientInfo("ApplicationName",
          named == null || named.isBlank() ? APPLICATION_NAME : named + " " + APPLICATION_NAME);
      return new ListenConnection(c, probeAfter.toNanos());
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  Connection connection() {
    return connection;
  }

  /** Something arrived on the connection: it is alive. */
  void heard() {
    lastHeard = System.nanoTime();
  }

  /** Asks the server {@code SELECT 1} when nothing was heard for a while; throws when it is gone. */
  void probeIfQuiet() throws SQLException {
    if (System.nanoTime() - lastHeard < quietNanos) {
      return;
    }
    try (Statement s = connection.createStatement()) {
      s.execute("SELECT 1");
    }
    heard();
  }

  @Override
  public void close() throws SQLException {
    connection.close();
  }
}
