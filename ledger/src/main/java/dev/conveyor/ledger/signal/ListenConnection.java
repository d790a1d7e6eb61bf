package dev.conveyor.ledger.signal;

import dev.conveyor.ledger.LedgerUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Properties;

/**
 * Opens a LISTEN connection that notices when it is dead. A LISTEN connection only reads, so a peer that
 * went away without a TCP reset (a NAT or firewall dropped the idle flow, the database host vanished)
 * leaves it waiting for notifications forever, deaf to every other process. So the connection has TCP
 * keep-alive and a socket timeout (10 s unless the ledger URL sets {@code socketTimeout}), and {@link
 * #probeIfQuiet} asks the server {@code SELECT 1} once nothing was heard for one socket timeout: a dead
 * connection then fails within about two of them, and its listener reconnects and looks again at whatever
 * it may have missed.
 */
public final class ListenConnection implements AutoCloseable {
  /** How long one read may block unless the URL says; {@code getNotifications(timeout)} waits less. */
  static final int SOCKET_TIMEOUT_SECONDS = 10;

  private final Connection connection;
  private final long quietNanos;
  private long lastHeard = System.nanoTime();

  private ListenConnection(Connection connection, long quietNanos) {
    this.connection = connection;
    this.quietNanos = quietNanos;
  }

  static ListenConnection open(LedgerUrl url) throws SQLException {
    Properties p = properties(url.properties());
    Connection c = DriverManager.getConnection(url.jdbcUrl(), p);
    try {
      long timeoutMillis = c.getNetworkTimeout(); // the socket timeout in effect (the URL's, or ours)
      return new ListenConnection(c, Math.max(1000, timeoutMillis) * 1_000_000L);
    } catch (SQLException | RuntimeException e) {
      c.close();
      throw e;
    }
  }

  /** What a LISTEN connection calls itself in {@code pg_stat_activity} (after the URL's own name, if any). */
  public static final String APPLICATION_NAME = "conveyor-listen";

  /**
   * The ledger's connection properties, with keep-alive and a socket timeout unless they were set, and an
   * application name that tells an operator (and the scale-out test) which backends are LISTENing.
   */
  static Properties properties(Properties base) {
    Properties p = new Properties();
    p.putAll(base);
    p.putIfAbsent("tcpKeepAlive", "true");
    p.putIfAbsent("socketTimeout", String.valueOf(SOCKET_TIMEOUT_SECONDS));
    String named = base.getProperty("ApplicationName");
    p.setProperty("ApplicationName",
        named == null || named.isBlank() ? APPLICATION_NAME : named + " " + APPLICATION_NAME);
    return p;
  }

  Connection connection() {
    return connection;
  }

  /** Something arrived on the connection: it is alive. */
  void heard() {
    lastHeard = System.nanoTime();
  }

  /** Asks the server {@code SELECT 1} when nothing was heard for one socket timeout; throws when it is gone. */
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
