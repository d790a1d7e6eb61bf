package dev.conveyor.ledger.signal;

import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.LedgerUrl;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.List;
import java.util.Map;
import java.util.Set;
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
 *
 * <p>On PostgreSQL this is the process's one LISTEN connection, for every channel anyone here listens on:
 * the jobs' wake-ups, the message queue's and durable signals'. One, because PostgreSQL (up to 16 at
 * least) wakes every listening backend of the database for every NOTIFY on any channel, and each wake-up
 * is a transaction on the server; a connection per channel multiplied that cost. The connection is opened
 * when the first channel is asked for; a channel asked for later is LISTENed on the same connection within
 * half a second. After the connection failed, and when a channel is first listened on, its sinks are called
 * with a null payload (something may have been missed). A connection that heard nothing for a while is
 * probed, so a network that silently dropped it does not leave this process deaf ({@link ListenConnection}).
 */
public final class LedgerSignals implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(LedgerSignals.class);

  private final LedgerUrl url;
  /** Signals raised here, and (untagged) those other processes raised on channels listened across processes. */
  private final Map<String, List<Consumer<String>>> sinks = new ConcurrentHashMap<>();
  /** NOTIFY payloads exactly as they arrive, this process's own included (see {@link #notifications}). */
  private final Map<String, List<Consumer<String>>> rawSinks = new ConcurrentHashMap<>();
  private final Set<String> acrossProcesses = ConcurrentHashMap.newKeySet();
  /** Raw sinks added to a channel already asked for: each is told to look again once that channel is listened on. */
  private final java.util.Queue<Map.Entry<String, Consumer<String>>> newcomers =
      new java.util.concurrent.ConcurrentLinkedQueue<>();
  private final java.time.Duration probeAfter;
  private volatile Thread listener;
  private volatile boolean running = true;
  private volatile ListenConnection listening;

  /**
   * Tags this ledger's NOTIFY payloads, so its own LISTEN connection skips them: its sinks were called
   * after the commit already, and a second call would wake every waiter for nothing.
   */
  private final String origin = String.format("%08x", new java.security.SecureRandom().nextInt());

  public LedgerSignals(LedgerUrl url) {
    this(url, ListenConnection.PROBE_AFTER);
  }

  /** With the LISTEN connection probed after {@code probeAfter} of quiet (tests make it short). */
  LedgerSignals(LedgerUrl url, java.time.Duration probeAfter) {
    this.url = url;
    this.probeAfter = probeAfter;
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
    startListener();
  }

  /**
   * Hands {@code sink} every NOTIFY payload on {@code channel} as it arrives, from any process (this one's
   * too: the sender tags its payloads as it likes), and null when some may have been missed: once the
   * channel is listened on, and after every reconnection. For senders that NOTIFY with their own SQL rather
   * than {@code Tx.signal}. On SQLite nothing arrives. Closing the handle stops the deliveries.
   */
  public AutoCloseable notifications(String channel, Consumer<String> sink) {
    requireChannel(channel);
    List<Consumer<String>> list = rawSinks.computeIfAbsent(channel, c -> new CopyOnWriteArrayList<>());
    list.add(sink);
    if (url.dialect() == Dialect.POSTGRESQL) {
      if (acrossProcesses.add(channel)) {
        startListener();
      } else {
        newcomers.add(Map.entry(channel, sink)); // its channel's first look-again may have gone already
      }
    }
    return () -> list.remove(sink);
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

  private synchronized void startListener() {
    if (listener == null && running) {
      listener = new Thread(this::loop, "ledger-signals");
      listener.setDaemon(true);
      listener.start();
    }
  }

  private void dispatch(String channel, String payload) {
    deliver(sinks.getOrDefault(channel, List.of()), channel, payload);
  }

  private static void deliver(List<Consumer<String>> to, String channel, String payload) {
    for (Consumer<String> sink : to) {
      tell(sink, channel, payload);
    }
  }

  /**
   * One sink's failure is its own: it must not end the delivery to the others, nor (thrown from the LISTEN
   * loop) the one connection every channel of this process shares.
   */
  private static void tell(Consumer<String> sink, String channel, String payload) {
    try {
      sink.accept(payload);
    } catch (VirtualMachineError e) {
      throw e;
    } catch (Throwable e) { // an AssertionError or a failed class initialiser in one sink, too
      log.warn("signal sink of {} failed: {}", channel, e.toString());
    }
  }

  /** A NOTIFY arrived on {@code channel}: raw sinks get it as it is, the others unless this ledger sent it. */
  private void arrived(String channel, String payload) {
    deliver(rawSinks.getOrDefault(channel, List.of()), channel, payload);
    String untagged = untagged(payload);
    if (untagged != null) {
      dispatch(channel, untagged);
    }
  }

  /** {@code channel} may have missed NOTIFYs: everyone on it looks again. */
  private void lookAgain(String channel) {
    deliver(rawSinks.getOrDefault(channel, List.of()), channel, null);
    dispatch(channel, null);
  }

  private void loop() {
    boolean failing = false;
    while (running) {
      try (ListenConnection c = ListenConnection.open(url, probeAfter)) {
        listening = c;
        Set<String> listened = new java.util.HashSet<>();
        PGConnection pg = c.connection().unwrap(PGConnection.class);
        while (running) {
          listenOnNewChannels(c, listened);
          if (failing) {
            log.info("ledger signals: LISTEN connection back; every channel looks again");
            failing = false;
          }
          tellNewcomers(listened);
          PGNotification[] batch = pg.getNotifications(500);
          if (batch != null && batch.length > 0) {
            c.heard();
            for (PGNotification n : batch) {
              arrived(n.getName(), n.getParameter());
            }
          }
          c.probeIfQuiet();
        }
      } catch (SQLException e) {
        if (running && !failing) { // once per outage: other processes' signals now wait for the polls
          log.warn("ledger signals: LISTEN connection failed ({}); reconnecting, and polling meanwhile", e.getMessage());
          failing = true;
        } else if (running) {
          log.debug("ledger signals: LISTEN connection still failing ({})", e.getMessage());
        }
      } catch (RuntimeException e) {
        log.warn("ledger signals: {}; reconnecting", e.toString());
      } catch (Error e) {
        // nothing restarts this thread: an Error must not end cross-process signals in silence
        log.error("ledger signals: {}; reconnecting", e.toString(), e);
      }
      listening = null;
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

  /** Tells raw sinks that came to channels already listened on to look again (the rest wait their turn). */
  private void tellNewcomers(Set<String> listened) {
    for (int n = newcomers.size(); n > 0; n--) {
      Map.Entry<String, Consumer<String>> newcomer = newcomers.poll();
      if (newcomer == null) {
        return;
      }
      if (listened.contains(newcomer.getKey())) {
        tell(newcomer.getValue(), newcomer.getKey(), null);
      } else {
        newcomers.add(newcomer);
      }
    }
  }

  /** LISTENs on the channels asked for since the last look, then tells their sinks to look again. */
  private void listenOnNewChannels(ListenConnection c, Set<String> listened) throws SQLException {
    List<String> added = acrossProcesses.stream().filter(ch -> !listened.contains(ch)).sorted().toList();
    if (added.isEmpty()) {
      return;
    }
    try (Statement s = c.connection().createStatement()) {
      for (String channel : added) {
        s.execute("LISTEN " + channel);
      }
    }
    c.heard();
    listened.addAll(added);
    for (String channel : added) { // whatever was committed before the LISTEN is looked at again
      newcomers.removeIf(n -> n.getKey().equals(channel)); // first: a sink added meanwhile is told twice, not never
      lookAgain(channel);
    }
  }

  @Override
  public void close() {
    running = false;
    ListenConnection c = listening;
    if (c != null) {
      try {
        c.close();
      } catch (SQLException | RuntimeException ignored) {
        // closing anyway
      }
    }
    Thread t = listener;
    if (t != null) {
      t.interrupt();
    }
  }
}
