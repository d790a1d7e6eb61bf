package dev.conveyor.ledger.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;

/**
 * Counts the NOTIFYs sent on a database's channels, as a listening backend receives them. Being a listener
 * itself, its backend runs a transaction for each NOTIFY too, reported to {@code pg_stat_database} when it
 * next runs a statement: {@link #stopAndReport} stops the counting and makes it report them.
 */
public final class NotifyCounter implements AutoCloseable {
  /** The channels Conveyor's processes NOTIFY on: the message queue's, the jobs' and durable signals'. */
  public static final List<String> CONVEYOR_CHANNELS = List.of("conveyor_mq", "conveyor_jobs", "conveyor_durability");
  /** How many of the database's backends are Conveyor's LISTEN connections (one per process). */
  public static final String LISTENERS_SQL = "SELECT COUNT(*) FROM pg_stat_activity WHERE datname = current_database()"
      + " AND application_name LIKE '%" + dev.conveyor.ledger.signal.ListenConnection.APPLICATION_NAME + "'";

  private final Connection connection;
  private final AtomicLong received = new AtomicLong();
  private volatile long lastHeardNanos = System.nanoTime();
  private volatile SQLException failed;
  private final Thread reader;
  private volatile boolean running = true;

  public NotifyCounter(String jdbcUrl, List<String> channels) throws SQLException {
    connection = DriverManager.getConnection(jdbcUrl, "postgres", "");
    try (Statement s = connection.createStatement()) {
      for (String channel : channels) {
        s.execute("LISTEN " + channel);
      }
    }
    reader = new Thread(this::read, "notify-counter");
    reader.setDaemon(true);
    reader.start();
  }

  private void read() {
    try {
      PGConnection pg = connection.unwrap(PGConnection.class);
      while (running) {
        PGNotification[] batch = pg.getNotifications(200);
        if (batch != null && batch.length > 0) {
          received.addAndGet(batch.length);
          lastHeardNanos = System.nanoTime();
        }
      }
    } catch (SQLException e) {
      if (running) {
        failed = e; // the counts stopped: received() says so rather than answer a number too low
      }
    }
  }

  /** NOTIFYs received so far; throws if the counter's connection failed (its count would be too low). */
  public long received() {
    if (failed != null) {
      throw new IllegalStateException("the NOTIFY counter's connection failed", failed);
    }
    return received.get();
  }

  /**
   * How long no NOTIFY arrived. Once past a LISTEN connection's probe interval (10 s), every listener of the
   * database has run a statement since its last NOTIFY, so {@code pg_stat_database} holds all they did.
   */
  public java.time.Duration quietFor() {
    return java.time.Duration.ofNanos(System.nanoTime() - lastHeardNanos);
  }

  /** Stops counting, and has this backend report its statistics (its NOTIFY transactions among them). */
  public void stopAndReport() throws Exception {
    running = false;
    reader.join(2_000);
    try (Statement s = connection.createStatement()) {
      s.execute("SELECT 1");
    }
  }

  @Override
  public void close() throws Exception {
    running = false;
    reader.join(2_000);
    connection.close();
  }
}
