package dev.conveyor.submitqueue.speculate;

import dev.conveyor.api.submitqueue.BatchInfo.State;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.batch.BatchRecord;
import dev.conveyor.submitqueue.batch.Batches;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * A planning pass's picture of one queue, read in a constant number of queries (five, whatever the queue's
 * depth): its active batches with members, dependencies and priorities, and the state and size of every batch
 * they depend on. A pass that reads batch by batch costs queries that grow with the square of the queue's depth
 * (each batch reads each batch it follows). A batch the pass changes is marked {@link #touched} and read afresh
 * from then on, so the pass never decides on a state it has itself replaced.
 */
final class QueueView {
  private static final String ACTIVE = " b.queue = ? AND b.state IN ('CREATED', 'SPECULATING', 'MERGING', 'CANCELLING')";

  /** What a pass needs of a batch it depends on. */
  record Dependency(State state, int members) {}

  private final Map<String, BatchRecord> active;
  private final Map<String, Integer> priorities;
  private final Map<String, Dependency> dependencies;
  private final Set<String> touched = new HashSet<>();

  private QueueView(Map<String, BatchRecord> active, Map<String, Integer> priorities,
      Map<String, Dependency> dependencies) {
    this.active = active;
    this.priorities = priorities;
    this.dependencies = dependencies;
  }

  static QueueView read(Tx tx, String queue) throws SQLException {
    Map<String, Object[]> heads = new LinkedHashMap<>();
    for (Object[] h : tx.query("SELECT b.batch_id, b.state, b.reason, b.created_n, b.version, b.created_at"
        + " FROM sq_batches b WHERE" + ACTIVE + " ORDER BY b.created_n, b.batch_id", rs -> new Object[] {
            rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getLong(5), rs.getLong(6)}, queue)) {
      heads.put((String) h[0], h);
    }
    Map<String, List<String>> members = new HashMap<>();
    for (String[] m : tx.query("SELECT m.batch_id, m.request_id FROM sq_batch_members m JOIN sq_batches b"
        + " ON b.batch_id = m.batch_id WHERE" + ACTIVE + " ORDER BY m.batch_id, m.ord",
        rs -> new String[] {rs.getString(1), rs.getString(2)}, queue)) {
      members.computeIfAbsent(m[0], k -> new ArrayList<>()).add(m[1]);
    }
    Map<String, List<String>> follows = new HashMap<>();
    for (String[] d : tx.query("SELECT d.batch_id, d.depends_on FROM sq_batch_deps d JOIN sq_batches b"
        + " ON b.batch_id = d.batch_id JOIN sq_batches o ON o.batch_id = d.depends_on WHERE" + ACTIVE
        + " ORDER BY d.batch_id, o.created_n, o.batch_id", rs -> new String[] {rs.getString(1), rs.getString(2)},
        queue)) {
      follows.computeIfAbsent(d[0], k -> new ArrayList<>()).add(d[1]);
    }
    // every batch an active one depends on (active or ended): its state and how many requests it holds
    Map<String, Dependency> dependencies = new HashMap<>();
    for (Object[] d : tx.query("SELECT o.batch_id, o.state, (SELECT COUNT(*) FROM sq_batch_members om"
        + " WHERE om.batch_id = o.batch_id) FROM sq_batches o WHERE o.batch_id IN (SELECT d.depends_on"
        + " FROM sq_batch_deps d JOIN sq_batches b ON b.batch_id = d.batch_id WHERE" + ACTIVE + ")",
        rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getInt(3)}, queue)) {
      dependencies.put((String) d[0], new Dependency(State.valueOf((String) d[1]), (Integer) d[2]));
    }
    Map<String, Integer> priorities = new HashMap<>();
    for (Object[] p : tx.query("SELECT m.batch_id, MAX(r.priority) FROM sq_batch_members m JOIN sq_batches b"
        + " ON b.batch_id = m.batch_id JOIN sq_requests r ON r.request_id = m.request_id WHERE" + ACTIVE
        + " GROUP BY m.batch_id", rs -> new Object[] {rs.getString(1), rs.getInt(2)}, queue)) {
      priorities.put((String) p[0], (Integer) p[1]);
    }
    Map<String, BatchRecord> active = new LinkedHashMap<>();
    for (Object[] h : heads.values()) {
      String id = (String) h[0];
      active.put(id, new BatchRecord(id, queue, State.valueOf((String) h[1]), (String) h[2], (Long) h[3],
          members.getOrDefault(id, List.of()), follows.getOrDefault(id, List.of()), (Long) h[4], (Long) h[5]));
    }
    return new QueueView(active, priorities, dependencies);
  }

  /** The queue's active batches when the pass began, oldest first. */
  List<String> activeIds() {
    return List.copyOf(active.keySet());
  }

  /** A batch as the pass should see it now: from the picture, or afresh once the pass touched it. */
  BatchRecord batch(Tx tx, String id) throws SQLException {
    BatchRecord b = touched.contains(id) ? null : active.get(id);
    return b != null ? b : Batches.get(tx, id);
  }

  /** A dependency's state and size: from the picture, or afresh once the pass touched it (or it is new). */
  Dependency dependency(Tx tx, String id) throws SQLException {
    Dependency d = touched.contains(id) ? null : dependencies.get(id);
    if (d != null) {
      return d;
    }
    BatchRecord b = Batches.get(tx, id);
    return new Dependency(b.state(), b.requestIds().size());
  }

  /** Whether a dependency may have been split (and so needs following to its parts). */
  boolean maybeSplit(String id) {
    Dependency d = touched.contains(id) ? null : dependencies.get(id);
    return d == null || d.state() == State.SPLIT;
  }

  int priority(Tx tx, String id) throws SQLException {
    Integer p = touched.contains(id) ? null : priorities.get(id);
    return p != null ? p : Batches.priority(tx, id);
  }

  /** The pass replaced this batch with {@code now}, read afresh in the same transaction: the picture follows. */
  void replaced(BatchRecord now) {
    if (active.containsKey(now.batchId())) {
      active.put(now.batchId(), now);
    }
    if (dependencies.containsKey(now.batchId())) {
      dependencies.put(now.batchId(), new Dependency(now.state(), now.requestIds().size()));
    }
  }

  /**
   * The pass changed this batch (its state, members or dependencies): it, and the batches that follow it, are
   * read afresh from now on.
   */
  void touched(String id) {
    touched.add(id);
    // a split re-points the batches that follow it to its parts: those are read afresh too
    for (BatchRecord b : active.values()) {
      if (b.dependsOn().contains(id)) {
        touched.add(b.batchId());
      }
    }
  }
}
