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
  private final String channel;
  private final java.util.function.Consumer<String> sink;
  private final Thread thread;
  private volatile boolean running = true;

  public PgNotifyListener(LedgerUrl url, Wakeups wakeups, Supervisor supervisor) {
    this(url, CHANNEL, payload -> {
      if (payload == null) {
        wakeups.signal(); // one may have been missed
        return;
      }
      String heard = wakeups.untagged(payload);
      if (heard != null) { // null: this process's own, signalled here after its commit already
        signal(wakeups, heard);
      }
    }, supervisor);
  }

  /** Hands every payload NOTIFYed on {@code channel} (null when one may have been missed) to {@code sink}. */
  public PgNotifyListener(LedgerUrl url, String channel, java.util.function.Consumer<String> sink,
      Supervisor supervisor) {
    if (!channel.matches("[a-z_]{1,63}")) {
      throw new IllegalArgumentException("channel must be 1..63 of a-z and _, got '" + channel + "'");
    }
    this.url = url;
    this.channel = channel;
    this.sink = sink;
    String name = channel.equals(CHANNEL) ? "pg-notify-listener" : "pg-notify-listener-" + channel;
    // anything but a SQLException (which the loop rides out itself) restarts it through the supervisor
    this.thread = new Thread(() -> supervisor.run(name, () -> running, this::loop), name);
    this.thread.setDaemon(true);
    this.thread.start();
  }

  private void loop() {
    while (running) {
      try (Connection c = DriverManager.getConnection(url.jdbcUrl(), url.properties());
           Statement s = c.createStatement()) {
        s.execute("LISTEN " + channel);
        sink.accept(null); // anything committed while not listening is looked at again
        PGConnection pg = c.unwrap(PGConnection.class);
        while (running) {
          PGNotification[] batch = pg.getNotifications(500);
          if (batch != null) {
            for (PGNotification n : batch) {
              sink.accept(n.getParameter());
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

  /** Longest payload sent; PostgreSQL refuses more than 8,000 bytes, and a whole-topic wake-up is always correct. */
  static final int MAX_PAYLOAD = 4000;

  /**
   * A notification's payload: {@code topic#p1,p2,...} for the partitions a commit wrote, or just the topic
   * when the list would be long.
   */
  public static String payload(String wireTopic, java.util.Collection<Integer> partitions) {
    StringBuilder s = new StringBuilder(wireTopic).append('#');
    for (int p : partitions) {
      if (s.charAt(s.length() - 1) != '#') {
        s.append(',');
      }
      s.append(p);
    }
    return partitions.isEmpty() || s.length() > MAX_PAYLOAD ? wireTopic : s.toString();
  }

  /**
   * Turns a payload into wake-ups: the named partitions, the whole topic when none are named, everything
   * for an empty or unreadable payload (a wake-up too many costs a read; one too few costs latency).
   */
  static void signal(Wakeups wakeups, String payload) {
    if (payload == null || payload.isEmpty()) {
      wakeups.signal();
      return;
    }
    int hash = payload.lastIndexOf('#');
    if (hash < 0) {
      wakeups.signal(payload);
      return;
    }
    String topic = payload.substring(0, hash);
    String[] parts = payload.substring(hash + 1).split(",");
    int[] partitions = new int[parts.length];
    try {
      for (int i = 0; i < parts.length; i++) {
        partitions[i] = Integer.parseInt(parts[i]);
      }
    } catch (NumberFormatException e) {
      wakeups.signal(payload); // a topic whose own name holds '#'
      return;
    }
    for (int p : partitions) {
      wakeups.signal(topic, p);
    }
  }

  @Override
  public void close() {
    running = false;
    thread.interrupt();
  }
}
