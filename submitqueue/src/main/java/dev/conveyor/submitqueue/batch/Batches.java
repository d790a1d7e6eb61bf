package dev.conveyor.submitqueue.batch;

import dev.conveyor.api.submitqueue.BatchInfo.State;
import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Batches, their members and dependencies (with the reverse index), in the caller's transaction. */
public final class Batches {
  private Batches() {}

  /** Creates the batch unless it exists (a redelivered batch stage finds the one it made before). */
  public static boolean createIfAbsent(Tx tx, String batchId, String queue, long createdN, List<String> requestIds,
      List<String> dependsOn) throws SQLException {
    if (tx.queryLong("SELECT COUNT(*) FROM sq_batches WHERE batch_id = ?", batchId) > 0) {
      return false;
    }
    long now = tx.nowMillis();
    tx.update("INSERT INTO sq_batches (batch_id, queue, state, reason, created_n, created_at, updated_at, version)"
        + " VALUES (?, ?, 'CREATED', NULL, ?, ?, ?, 0)", batchId, queue, createdN, now, now);
    List<Object[]> members = new ArrayList<>();
    for (int i = 0; i < requestIds.size(); i++) {
      members.add(new Object[] {batchId, i, requestIds.get(i)});
    }
    tx.batch("INSERT INTO sq_batch_members (batch_id, ord, request_id) VALUES (?, ?, ?)", members);
    tx.batch("INSERT INTO sq_batch_deps (batch_id, depends_on) VALUES (?, ?)",
        dependsOn.stream().map(d -> new Object[] {batchId, d}).toList());
    return true;
  }

  public static Optional<BatchRecord> find(Tx tx, String batchId) throws SQLException {
    Optional<Object[]> head = tx.queryOne("SELECT queue, state, reason, created_n, version, created_at FROM sq_batches"
        + " WHERE batch_id = ?", rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4),
            rs.getLong(5), rs.getLong(6)}, batchId);
    if (head.isEmpty()) {
      return Optional.empty();
    }
    Object[] h = head.get();
    return Optional.of(new BatchRecord(batchId, (String) h[0], State.valueOf((String) h[1]), (String) h[2],
        (Long) h[3], members(tx, batchId), dependencies(tx, batchId), (Long) h[4], (Long) h[5]));
  }

  public static BatchRecord get(Tx tx, String batchId) throws SQLException {
    return find(tx, batchId).orElseThrow(() -> new IllegalStateException("no batch " + batchId));
  }

  public static boolean transition(Tx tx, BatchRecord from, State to, String reason) throws SQLException {
    return tx.update("UPDATE sq_batches SET state = ?, reason = ?, updated_at = ?, version = version + 1"
        + " WHERE batch_id = ? AND version = ?", to.name(), reason, tx.nowMillis(), from.batchId(), from.version()) == 1;
  }

  public static List<String> members(Tx tx, String batchId) throws SQLException {
    return tx.query("SELECT request_id FROM sq_batch_members WHERE batch_id = ? ORDER BY ord", rs -> rs.getString(1),
        batchId);
  }

  public static List<String> dependencies(Tx tx, String batchId) throws SQLException {
    return tx.query("SELECT d.depends_on FROM sq_batch_deps d JOIN sq_batches b ON b.batch_id = d.depends_on"
        + " WHERE d.batch_id = ? ORDER BY b.created_n, b.batch_id", rs -> rs.getString(1), batchId);
  }

  /**
   * Re-points {@code b}'s dependencies on SPLIT batches to their parts (a batch stage that read the
   * active batches just before a split committed may have made {@code b} follow the split one).
   * Answers whether anything changed.
   */
  public static boolean followSplits(Tx tx, BatchRecord b) throws SQLException {
    return followSplits(tx, b, dep -> true);
  }

  /** As {@link #followSplits(Tx, BatchRecord)}, asking the ledger only about the dependencies {@code maybeSplit} names. */
  public static boolean followSplits(Tx tx, BatchRecord b, java.util.function.Predicate<String> maybeSplit)
      throws SQLException {
    boolean changed = false;
    for (String dep : b.dependsOn()) {
      if (!maybeSplit.test(dep) || !"SPLIT".equals(tx.queryOne("SELECT state FROM sq_batches WHERE batch_id = ?", rs -> rs.getString(1), dep)
          .orElse(null))) {
        continue;
      }
      List<String> parts = tx.query("SELECT batch_id FROM sq_batches WHERE batch_id IN (?, ?)", rs -> rs.getString(1),
          dep + ".1", dep + ".2");
      tx.update("DELETE FROM sq_batch_deps WHERE batch_id = ? AND depends_on = ?", b.batchId(), dep);
      for (String part : parts) {
        if (!b.dependsOn().contains(part)) {
          tx.update("INSERT INTO sq_batch_deps (batch_id, depends_on) VALUES (?, ?)", b.batchId(), part);
        }
      }
      changed = true;
    }
    return changed;
  }

  /** A batch's priority: its most urgent member's. */
  public static int priority(Tx tx, String batchId) throws SQLException {
    return (int) tx.queryLong("SELECT COALESCE(MAX(r.priority), 0) FROM sq_batch_members m JOIN sq_requests r"
        + " ON r.request_id = m.request_id WHERE m.batch_id = ?", batchId);
  }

  /** Batches that depend on {@code batchId} (the reverse index): woken when it ends. */
  public static List<String> dependents(Tx tx, String batchId) throws SQLException {
    return tx.query("SELECT batch_id FROM sq_batch_deps WHERE depends_on = ? ORDER BY batch_id", rs -> rs.getString(1),
        batchId);
  }

  /** The queue's batches that are not terminal, oldest first. */
  public static List<String> active(Tx tx, String queue) throws SQLException {
    return tx.query("SELECT batch_id FROM sq_batches WHERE queue = ? AND state IN ('CREATED', 'SPECULATING',"
        + " 'MERGING', 'CANCELLING') ORDER BY created_n, batch_id", rs -> rs.getString(1), queue);
  }

  /** The reason a batch carries while it may still take members (see {@code BatchStage}). */
  public static final String FILLING = "filling";

  /** The queue's batch that may still take members, if any (at most one: a newer one seals it). */
  public static Optional<String> filling(Tx tx, String queue) throws SQLException {
    return tx.queryOne("SELECT batch_id FROM sq_batches WHERE queue = ? AND state = 'CREATED' AND reason LIKE ?",
        rs -> rs.getString(1), queue, FILLING + "%");
  }

  /** Seals the queue's filling batch, if any: it takes no more members. Answers its id. */
  public static Optional<String> seal(Tx tx, String queue) throws SQLException {
    Optional<String> open = filling(tx, queue);
    if (open.isPresent()) {
      tx.update("UPDATE sq_batches SET reason = NULL, updated_at = ?, version = version + 1 WHERE batch_id = ?",
          tx.nowMillis(), open.get());
    }
    return open;
  }

  /**
   * Adds a request at the end of a batch still CREATED and unchanged since {@code b} was read, and its
   * dependencies to the batch's (those it has not yet). False, adding nothing, when the batch moved on.
   */
  public static boolean addMember(Tx tx, BatchRecord b, String requestId, List<String> dependsOn) throws SQLException {
    if (tx.update("UPDATE sq_batches SET updated_at = ?, version = version + 1 WHERE batch_id = ? AND version = ?"
        + " AND state = 'CREATED'", tx.nowMillis(), b.batchId(), b.version()) != 1) {
      return false;
    }
    tx.update("INSERT INTO sq_batch_members (batch_id, ord, request_id) VALUES (?, ?, ?)", b.batchId(),
        b.requestIds().size(), requestId);
    List<Object[]> added = new ArrayList<>();
    for (String d : dependsOn) {
      if (!b.dependsOn().contains(d) && !d.equals(b.batchId())) {
        added.add(new Object[] {b.batchId(), d});
      }
    }
    tx.batch("INSERT INTO sq_batch_deps (batch_id, depends_on) VALUES (?, ?)", added);
    return true;
  }

  /**
   * Makes a batch not yet merging follow {@code dependsOn} too, and what that follows (dependencies stay
   * closed: a tree that assumes a batch lands holds what it needs), when a request landed before its
   * requests came late; bumps its version. False, changing nothing, once it is merging or ended.
   */
  public static boolean followAlso(Tx tx, String batchId, String dependsOn, List<String> whatThatFollows)
      throws SQLException {
    if (tx.update("UPDATE sq_batches SET updated_at = ?, version = version + 1 WHERE batch_id = ?"
        + " AND state IN ('CREATED', 'SPECULATING')", tx.nowMillis(), batchId) != 1) {
      return false;
    }
    List<String> has = dependencies(tx, batchId);
    List<Object[]> rows = new ArrayList<>();
    for (String d : concat(whatThatFollows, dependsOn)) {
      if (!has.contains(d) && !d.equals(batchId) && rows.stream().noneMatch(r -> r[1].equals(d))) {
        rows.add(new Object[] {batchId, d});
      }
    }
    tx.batch("INSERT INTO sq_batch_deps (batch_id, depends_on) VALUES (?, ?)", rows);
    return true;
  }

  private static List<String> concat(List<String> list, String one) {
    List<String> out = new ArrayList<>(list);
    out.add(one);
    return out;
  }

  /**
   * Ends {@code b} as SPLIT and carries its requests on in {@code parts}, new batches in order, each
   * depending on what {@code b} depended on and, when {@code chained}, on the part before it (so a later
   * part is built assuming the earlier ones land, as they would have in {@code b}). Batches that depended
   * on {@code b} depend on every part instead. Answers the new batches' ids; the caller re-plans.
   */
  public static List<String> split(Tx tx, BatchRecord b, List<List<String>> parts, boolean chained, String why)
      throws SQLException {
    if (!transition(tx, b, State.SPLIT, why)) {
      throw new dev.conveyor.ledger.OptimisticConflictException("batch " + b.batchId() + " changed while splitting");
    }
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < parts.size(); i++) {
      String id = b.batchId() + "." + (i + 1);
      List<String> deps = new ArrayList<>(b.dependsOn());
      if (chained && i > 0) {
        deps.add(ids.get(i - 1));
      }
      createIfAbsent(tx, id, b.queue(), b.createdN(), parts.get(i), deps);
      for (String requestId : parts.get(i)) {
        // only a request still BATCHED moves: one whose cancel committed meanwhile must not go on
        if (tx.update("UPDATE sq_requests SET batch_id = ?, updated_at = ?, version = version + 1 WHERE request_id = ?"
            + " AND state = 'BATCHED'", id, tx.nowMillis(), requestId) != 1) {
          throw new dev.conveyor.ledger.OptimisticConflictException("request " + requestId
              + " changed while its batch " + b.batchId() + " was split");
        }
      }
      ids.add(id);
    }
    for (String dependent : dependents(tx, b.batchId())) {
      tx.update("DELETE FROM sq_batch_deps WHERE batch_id = ? AND depends_on = ?", dependent, b.batchId());
      tx.batch("INSERT INTO sq_batch_deps (batch_id, depends_on) VALUES (?, ?)",
          ids.stream().map(id -> new Object[] {dependent, id}).toList());
    }
    return ids;
  }
}
