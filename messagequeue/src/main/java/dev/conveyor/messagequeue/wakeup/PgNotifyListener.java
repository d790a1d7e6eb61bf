package dev.conveyor.messagequeue.wakeup;

import dev.conveyor.ledger.LedgerUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import org.postgresql.PGConnection;
import dev.conveyor.supervise.Supervisor;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Turns PostgreSQL NOTIFYs from any node into local wake-ups. Holds one dedicated connection;
 * reconnects after failures. Consumers poll anyway, so a missed notification only costs latency.
 */
public final class PgNotifyListener implements AutoCloseable {
  public static final String CHANNEL = "conveyor_mq";
  private static final Logger log = LoggerFactory.getLogger(PgNotifyListener.class);

  private final LedgerUrl url;
  private final Wakeups wakeups;
  private final Thread thread;
  private volatile boolean running = true;

  public PgNotifyListener(LedgerUrl url, Wakeups wakeups, Supervisor supervisor) {
    this.url = url;
    this.wakeups = wakeups;
    // anything but a SQLException (which the loop rides out itself) restarts it through the supervisor
    this.thread = new Thread(() -> supervisor.run("pg-notify-listener", () -> running, this::loop),
        "pg-notify-listener");
    this.thread.setDaemon(true);
    this.thread.start();
  }

  private void loop() {
    while (running) {
      try (Connection c = DriverManager.getConnection(url.jdbcUrl(), url.properties());
           Statement s = c.createStatement()) {
        s.execute("LISTEN " + CHANNEL);
        PGConnection pg = c.unwrap(PGConnection.class);
        while (running) {
          PGNotification[] batch = pg.getNotifications(500);
          if (batch != null) {
            for (PGNotification n : batch) {
              if (n.getParameter() == null || n.getParameter().isEmpty()) {
                wakeups.signal();
              } else {
                wakeups.signal(n.getParameter());
              }
            }
          }
        }
      } catch (SQLException e) {
        if (running) {
          log.warn("LISTEN connection failed ({}); falling back to polling until it reconnects", e.getMessage());
          try {
            Thread.sleep(1000);
          } catch (InterruptedException ie) {
            return;
          }
        }
      }
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
