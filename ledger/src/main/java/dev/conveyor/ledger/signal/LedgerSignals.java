package dev.conveyor.ledger.signal;

import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.LedgerUrl;
import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;
import org.postgresql.PGConnection;
import org.postgresql.PGNotification;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Named signals about committed changes, for waiters in this process and (on PostgreSQL) in every
 * process on the ledger. A transaction raises one with {@code Tx.signal(channel, payload)}: its sinks here
 * run after the commit, and a NOTIFY sent inside the transaction reaches other processes when it commits.
 * The LISTEN connection is opened when the first sink of a channel is added; after it fails, every sink
 * is called with a null payload (something may have been missed) once it is back.
 */
public final class LedgerSignals implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LedgerSignals.class);

  private final LedgerUrl url;
  private final Map<String, List<Consumer<String>>> sinks = new ConcurrentHashMap<>();
  private volatile Thread listener;
  private volatile boolean running = true;
  private volatile Connection listening;

  /**
   * Tags this ledger's NOTIFY payloads, so its own LISTEN connection skips them: its sinks were called
   * after the commit already, and a second call would wake every waiter for nothing.
   */
  private final String origin = String.format("%08x", new java.security.SecureRandom().nextInt());

  public LedgerSignals(LedgerUrl url) {
    this.url = url;
  }

  /** The payload as this ledger sends it in a NOTIFY: {@code <origin>|<payload>}. */
  public String tagged(String payload) {
    return origin + "|" + payload;
  }

  /** A NOTIFY payload as sinks get it; null when this ledger sent it (its sinks already have it). */
  String untagged(String payload) {
    if (payload != null && payload.length() >= 9 && payload.charAt(8) == '|'
        && payload.substring(0, 8).chars().allMatch(c -> Character.digit(c, 16) >= 0)) {
      return payload.startsWith(origin) ? null : payload.substring(9);
    }
    return payload; // untagged: from an older version
  }

  private final java.util.Set<String> acrossProcesses = ConcurrentHashMap.newKeySet();

  /**
   * Calls {@code sink} with the payload of each signal on {@code channel} (a-z and _, 1..63 characters)
   * raised in this process; {@link #acrossProcesses} adds those of other processes.
   */
  public void listen(String channel, Consumer<String> sink) {
    requireChannel(channel);
    sinks.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>()).add(sink);
  }

  /** Delivers {@code channel}'s signals raised by other processes too (PostgreSQL; a no-op on SQLite). */
  public void acrossProcesses(String channel) {
    requireChannel(channel);
    if (url.dialect() != Dialect.POSTGRESQL || !acrossProcesses.add(channel)) {
      return;
    }
    synchronized (this) {
      if (listener == null) {
        listener = new Thread(this::loop, "ledger-signals");
        listener.setDaemon(true);
        listener.start();
      } else {
        closeQuietly(listening); // the loop reconnects and listens on the new channel too
      }
    }
  }

  /** Delivers a signal raised in this process (after its transaction committed). */
  public void local(String channel, String payload) {
    dispatch(channel, payload);
  }

  static void requireChannel(String channel) {
    if (!channel.matches("[a-z_]{1,63}")) {
      throw new IllegalArgumentException("channel must be 1..63 of a-z and _, got '" + channel + "'");
    }
  }

  private void dispatch(String channel, String payload) {
    for (Consumer<String> sink : sinks.getOrDefault(channel, List.of())) {
      try {
        sink.accept(payload);
      } catch (RuntimeException e) {
        log.warn("signal sink of {} failed: {}", channel, e.getMessage());
      }
    }
  }

  private void loop() {
    while (running) {
      try (Connection c = DriverManager.getConnection(url.jdbcUrl(), url.properties());
           Statement s = c.createStatement()) {
        listening = c;
        for (String channel : acrossProcesses) {
          s.execute("LISTEN " + channel);
        }
        acrossProcesses.forEach(channel -> dispatch(channel, null)); // whatever was missed is looked at again
        PGConnection pg = c.unwrap(PGConnection.class);
        while (running) {
          PGNotification[] batch = pg.getNotifications(500);
          if (batch != null) {
            for (PGNotification n : batch) {
              String payload = untagged(n.getParameter());
              if (payload != null) {
                dispatch(n.getName(), payload);
              }
            }
          }
        }
      } catch (SQLException e) {
        if (running) {
          log.debug("ledger signals: LISTEN connection ended ({}); reconnecting", e.getMessage());
        }
      } catch (RuntimeException e) {
        log.warn("ledger signals: {}; reconnecting", e.toString());
      } catch (Error e) {
        // nothing restarts this thread: an Error must not end cross-process signals in silence
        log.error("ledger signals: {}; reconnecting", e.toString(), e);
      }
      if (running) {
        try {
          Thread.sleep(500);
        } catch (InterruptedException ie) {
          log.debug("ledger signals: interrupted; stopping");
          return;
        }
      }
    }
    log.debug("ledger signals: closed");
  }

  private static void closeQuietly(Connection c) {
    if (c != null) {
      try {
        c.close();
      } catch (SQLException | RuntimeException ignored) {
        // it is being replaced
      }
    }
  }

  @Override
  public void close() {
    running = false;
    closeQuietly(listening);
    Thread t = listener;
    if (t != null) {
      t.interrupt();
    }
  }
}
