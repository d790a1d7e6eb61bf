package dev.conveyor.messagequeue.consume;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.stream.Publisher;
import dev.conveyor.messagequeue.wakeup.Wakeups;
import dev.conveyor.supervise.Supervisor;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The heartbeat of a process's consumer-group members: one transaction per beat, whatever the number
 * of groups and partitions, keeps every partition lease of this process's members alive (a lease is
 * good while its owner's {@code mq_nodes} row has not expired), and in the same transaction:
 * <ul>
 *   <li>reads every member's expiry, so a member that stopped beating is noticed (logged at INFO) and
 *       this process's consumers rebalance at once to take its partitions;</li>
 *   <li>finds the partitions this process holds that have something deliverable, and wakes them: the
 *       fallback for a missed NOTIFY or a write by another process on SQLite, in place of polling every
 *       partition;</li>
 *   <li>reads when the next delayed message is due, and moves due ones to their topics.</li>
 * </ul>
 * A beat comes every third of the shortest member TTL, at most every second.
 *
 * <p>SQL per beat: {@code INSERT INTO mq_nodes … ON CONFLICT (member_id) DO UPDATE SET expires_at = ?};
 * {@code SELECT member_id, expires_at FROM mq_nodes}; {@code SELECT g.topic, g.partition_no FROM
 * mq_group_partitions g JOIN mq_partitions p … WHERE g.owner IN (…) AND p.next_seq - 1 > g.committed_seq
 * AND p.next_seq > p.low_seq AND g.head_not_before <= ?}; {@code SELECT MIN(due_at) FROM mq_scheduled}.
 */
public final class MemberLiveness implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(MemberLiveness.class);
  /** The wake-up key every consumer of this process watches: the set of live members changed. */
  static final String MEMBERS_CHANGED = "@members";
  static final long MAX_BEAT_MS = 1_000;
  private static final long CLEANUP_EVERY_MS = Duration.ofMinutes(10).toMillis();
  static final long FORGET_AFTER_MS = Duration.ofHours(1).toMillis();

  private final Ledger ledger;
  private final Wakeups wakeups;
  private final Publisher publisher;
  private final Supervisor supervisor;
  /** member id → the TTLs its open consumers asked for (the shortest wins). */
  private final Map<String, Map<Object, Duration>> members = new ConcurrentHashMap<>();
  private final Object lock = new Object();
  private final AtomicLong lapses = new AtomicLong();
  private final AtomicLong beats = new AtomicLong();
  /** Other members' expiry as last read, to notice who lapsed, joined or left. */
  private Map<String, Long> lastSeen = Map.of();
  private long lastCleanup = Long.MIN_VALUE;
  private long lastBeatOk;
  private Thread thread;
  private volatile boolean running;

  public MemberLiveness(Ledger ledger, Wakeups wakeups, Publisher publisher, Supervisor supervisor) {
    this.ledger = ledger;
    this.wakeups = wakeups;
    this.publisher = publisher;
    this.supervisor = supervisor;
  }

  /**
   * Keeps {@code member} alive for as long as {@code owner} is registered; beats once before it returns,
   * so the member is live before its consumer first rebalances.
   */
  void register(Object owner, String member, Duration ttl) {
    synchronized (lock) {
      members.computeIfAbsent(member, m -> new ConcurrentHashMap<>()).put(owner, ttl);
      if (thread == null) {
        running = true;
        thread = new Thread(() -> supervisor.run("member-liveness", () -> running, this::loop), "member-liveness");
        thread.setDaemon(true);
        thread.start();
      }
    }
    ledger.transact(tx -> {
      upsert(tx, member, ttlOf(member), tx.nowMillis());
      return null;
    });
  }

  /** {@code owner} stopped; its member stops beating once no other owner keeps it. */
  void unregister(Object owner, String member) {
    synchronized (lock) {
      Map<Object, Duration> owners = members.get(member);
      if (owners != null) {
        owners.remove(owner);
        if (owners.isEmpty()) {
          members.remove(member);
        }
      }
    }
  }

  /** This process's members now (a snapshot). */
  public java.util.Set<String> members() {
    return java.util.Set.copyOf(members.keySet());
  }

  /** Heartbeats committed so far. */
  public long beats() {
    return beats.get();
  }

  /** Members this process saw stop beating (each once). */
  public long lapsesSeen() {
    return lapses.get();
  }

  private Duration ttlOf(String member) {
    return members.getOrDefault(member, Map.of()).values().stream().min(Duration::compareTo)
        .orElse(Duration.ofSeconds(3));
  }

  private long beatEveryMillis() {
    long shortest = members.keySet().stream().map(this::ttlOf).mapToLong(Duration::toMillis).min().orElse(3_000);
    return Math.max(50, Math.min(MAX_BEAT_MS, shortest / 3));
  }

  private void loop() throws InterruptedException {
    while (running) {
      long started = monotonicMillis();
      try {
        beat();
      } catch (RuntimeException e) {
        log.warn("member heartbeat failed ({}); partitions stay held until the TTL runs out", e.getMessage());
      }
      long left = beatEveryMillis() - (monotonicMillis() - started);
      if (left > 0) {
        Thread.sleep(left);
      }
    }
  }

  /** {@code nextDue}: when the next delayed message is due, or -1 when none waits. */
  private record Beat(Map<String, Long> expiries, List<Object[]> withWork, long nextDue, long now) {}

  /** One heartbeat; package-private so a test can beat without waiting. */
  void beat() {
    Map<String, Duration> ttls = new HashMap<>();
    for (String m : members.keySet()) {
      ttls.put(m, ttlOf(m));
    }
    if (ttls.isEmpty()) {
      return;
    }
    boolean cleanup = monotonicMillis() - lastCleanup >= CLEANUP_EVERY_MS;
    Beat b = ledger.transact(tx -> {
      long now = tx.nowMillis();
      for (var e : ttls.entrySet()) {
        upsert(tx, e.getKey(), e.getValue(), now);
      }
      if (cleanup) {
        tx.update("DELETE FROM mq_nodes WHERE expires_at < ?", now - FORGET_AFTER_MS);
        tx.update("DELETE FROM mq_members WHERE member_id NOT IN (SELECT member_id FROM mq_nodes)");
      }
      Map<String, Long> expiries = new HashMap<>();
      for (Object[] row : tx.query("SELECT member_id, expires_at FROM mq_nodes",
          rs -> new Object[] {rs.getString(1), rs.getLong(2)})) {
        expiries.put((String) row[0], (Long) row[1]);
      }
      List<Object> args = new ArrayList<>(ttls.keySet());
      args.add(now);
      List<Object[]> withWork = tx.query("SELECT g.topic, g.partition_no FROM mq_group_partitions g"
          + " JOIN mq_partitions p ON p.topic = g.topic AND p.partition_no = g.partition_no"
          + " WHERE g.owner IN (" + String.join(", ", java.util.Collections.nCopies(ttls.size(), "?")) + ")"
          + " AND p.next_seq - 1 > g.committed_seq AND p.next_seq > p.low_seq AND g.head_not_before <= ?",
          rs -> new Object[] {rs.getString(1), rs.getInt(2)}, args.toArray());
      long due = tx.queryLong("SELECT COALESCE(MIN(due_at), -1) FROM mq_scheduled");
      return new Beat(expiries, withWork, due, now);
    });
    if (cleanup) {
      lastCleanup = monotonicMillis();
    }
    long beatAt = monotonicMillis();
    long shortestTtl = ttls.values().stream().mapToLong(Duration::toMillis).min().orElse(0);
    if (lastBeatOk != 0 && beatAt - lastBeatOk > shortestTtl) {
      log.warn("member heartbeat was {} ms late (TTL {} ms): another member may have taken partitions of {}",
          beatAt - lastBeatOk - beatEveryMillis(), shortestTtl, ttls.keySet());
    }
    lastBeatOk = beatAt;
    beats.incrementAndGet();
    noticeChanges(b.expiries(), b.now(), ttls.keySet());
    for (Object[] p : b.withWork()) {
      wakeups.signal((String) p[0], (Integer) p[1]);
    }
    if (b.nextDue() >= 0 && b.nextDue() <= b.now()) {
      while (ledger.transact(tx -> publisher.pumpDue(tx, 500)) == 500) {
        // more were due than one transaction moves
      }
    }
  }

  /** Logs who lapsed, joined or left since the last beat; any change makes this process's consumers rebalance. */
  private void noticeChanges(Map<String, Long> expiries, long now, java.util.Set<String> mine) {
    Map<String, Long> live = new HashMap<>();
    expiries.forEach((m, at) -> {
      if (at > now) {
        live.put(m, at);
      }
    });
    boolean changed = !live.keySet().equals(lastSeen.keySet());
    for (var e : lastSeen.entrySet()) {
      String m = e.getKey();
      if (live.containsKey(m) || mine.contains(m)) {
        continue;
      }
      Long expiredAt = expiries.get(m);
      if (expiredAt == null) {
        log.info("member {} left", m);
      } else {
        lapses.incrementAndGet();
        log.info("member {} lapsed: no heartbeat for {} ms past its lease; its partitions are free to take", m,
            now - expiredAt);
      }
    }
    if (!lastSeen.isEmpty()) {
      for (String m : live.keySet()) {
        if (!lastSeen.containsKey(m) && !mine.contains(m)) {
          log.info("member {} joined", m);
        }
      }
    }
    lastSeen = live;
    if (changed) {
      wakeups.signal(MEMBERS_CHANGED);
    }
  }

  /**
   * Renews the member's row; {@code started_at} is when its current unbroken liveness began, so a row that
   * had lapsed (the member paused, or could not reach the database) starts again now.
   */
  static void upsert(Tx tx, String member, Duration ttl, long now) throws SQLException {
    tx.update("INSERT INTO mq_nodes (member_id, started_at, expires_at) VALUES (?, ?, ?)"
        + " ON CONFLICT (member_id) DO UPDATE SET expires_at = excluded.expires_at, started_at = CASE"
        + " WHEN mq_nodes.expires_at < excluded.started_at THEN excluded.started_at ELSE mq_nodes.started_at END",
        member, now, now + ttl.toMillis());
  }

  /** Ends the member's liveness at once (a clean stop): others take its partitions without waiting. */
  void forget(Tx tx, String member) throws SQLException {
    tx.update("DELETE FROM mq_nodes WHERE member_id = ?", member);
  }

  boolean keeps(String member) {
    return members.containsKey(member);
  }

  private static long monotonicMillis() {
    return System.nanoTime() / 1_000_000;
  }

  @Override
  public void close() {
    synchronized (lock) {
      running = false;
      if (thread != null) {
        thread.interrupt();
        thread = null;
      }
    }
  }
}
