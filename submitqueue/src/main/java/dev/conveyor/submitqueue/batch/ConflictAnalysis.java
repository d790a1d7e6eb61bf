package dev.conveyor.submitqueue.batch;

import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Where a new batch goes among the active ones. It follows those whose changes touch a path it touches
 * (or, for a serial queue, all of them), plus what those follow in turn, so a speculative tree that
 * assumes a dependency lands also contains everything that dependency needs. But requests reach the
 * batch stage in the order their checks end, not the order they were landed: a request landed before
 * every request of an active batch that touches what it touches goes ahead of that batch (unless it is
 * merging), and of everything that follows that batch, so among conflicting changes the first landed is
 * the first tried.
 */
public final class ConflictAnalysis {
  private ConflictAnalysis() {}

  /** An active batch as conflict analysis sees it. {@code firstN}: its earliest request's number. */
  public record ActiveBatch(String batchId, Set<String> paths, List<String> dependsOn, boolean merging, long firstN) {
    public ActiveBatch {
      paths = Set.copyOf(paths);
      dependsOn = List.copyOf(dependsOn);
    }

    /** One not merging and landed after any request (tests, and batches with no order question). */
    public ActiveBatch(String batchId, Set<String> paths, List<String> dependsOn) {
      this(batchId, paths, dependsOn, false, Long.MIN_VALUE);
    }
  }

  /** What the new batch follows, and the batches that go after it instead (each must then follow it), oldest first. */
  public record Placement(List<String> follows, List<String> ahead) {
    public Placement {
      follows = List.copyOf(follows);
      ahead = List.copyOf(ahead);
    }
  }

  /** The queue's active batches as the placement needs them; two reads for the whole queue. */
  public static List<ActiveBatch> active(Tx tx, SubmitQueueConfig queue) throws SQLException {
    Map<String, String> states = new java.util.LinkedHashMap<>();
    tx.query("SELECT batch_id, state FROM sq_batches WHERE queue = ? AND state IN ('CREATED', 'SPECULATING',"
        + " 'MERGING', 'CANCELLING') ORDER BY created_n, batch_id", rs -> states.put(rs.getString(1), rs.getString(2)),
        queue.name());
    if (states.isEmpty()) {
      return List.of();
    }
    // by id, with no state filter: on PostgreSQL each statement sees its own snapshot, and a batch split in
    // between must still count (the planner re-points its followers to its parts)
    Object[] ids = states.keySet().toArray();
    String in = "(" + String.join(", ", Collections.nCopies(ids.length, "?")) + ")";
    Map<String, Set<String>> touched = new HashMap<>();
    Map<String, Long> firstN = new HashMap<>();
    tx.query("SELECT x.batch_id, r.paths, r.n FROM sq_batch_members x JOIN sq_requests r ON r.request_id ="
        + " x.request_id WHERE x.batch_id IN " + in, rs -> {
          String id = rs.getString(1);
          Set<String> p = touched.computeIfAbsent(id, k -> new HashSet<>());
          String text = rs.getString(2);
          if (text != null && !text.isEmpty()) {
            p.addAll(java.util.Arrays.asList(text.split("\n")));
          }
          return firstN.merge(id, rs.getLong(3), Math::min);
        }, ids);
    Map<String, List<String>> follows = new HashMap<>();
    tx.query("SELECT batch_id, depends_on FROM sq_batch_deps WHERE batch_id IN " + in, rs -> follows.computeIfAbsent(
        rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2)), ids);
    List<ActiveBatch> out = new ArrayList<>();
    states.forEach((id, state) -> out.add(new ActiveBatch(id, touched.getOrDefault(id, Set.of()),
        follows.getOrDefault(id, List.of()), !state.equals("CREATED") && !state.equals("SPECULATING"),
        firstN.getOrDefault(id, Long.MIN_VALUE))));
    return out;
  }

  /**
   * Where a batch whose earliest request is number {@code n} and which touches {@code paths} goes: ahead of
   * every active batch that touches a common path (all, for a serial queue), is not merging and holds only
   * requests landed after {@code n}, and of all that follow those; behind the others it conflicts with.
   */
  public static Placement place(List<ActiveBatch> active, SubmitQueueConfig.ConflictAnalyzer analyzer,
      Set<String> paths, long n) {
    Set<String> ahead = new HashSet<>();
    for (ActiveBatch b : active) {
      if (!b.merging() && b.firstN() > n && conflicts(b, analyzer, paths)) {
        ahead.add(b.batchId());
      }
    }
    // what follows a batch that goes after the new one goes after it too
    for (boolean grew = !ahead.isEmpty(); grew; ) {
      grew = false;
      for (ActiveBatch b : active) {
        if (!ahead.contains(b.batchId()) && b.dependsOn().stream().anyMatch(ahead::contains)) {
          if (b.merging()) { // already merging behind a batch it was to follow: too late to go ahead of it
            return new Placement(dependencies(active, analyzer, paths), List.of());
          }
          grew = ahead.add(b.batchId()) || grew;
        }
      }
    }
    List<ActiveBatch> before = active.stream().filter(b -> !ahead.contains(b.batchId())).toList();
    return new Placement(dependencies(before, analyzer, paths),
        active.stream().map(ActiveBatch::batchId).filter(ahead::contains).toList());
  }

  /**
   * The batches of {@code active} (oldest first) that a batch touching {@code paths} must follow, oldest
   * first: those touching a common path (every one, for a serial queue) and, transitively, what they follow.
   */
  public static List<String> dependencies(List<ActiveBatch> active, SubmitQueueConfig.ConflictAnalyzer analyzer,
      Set<String> paths) {
    Map<String, ActiveBatch> byId = new HashMap<>();
    active.forEach(b -> byId.put(b.batchId(), b));
    Set<String> closure = new HashSet<>();
    List<String> frontier = new ArrayList<>();
    for (ActiveBatch b : active) {
      if (conflicts(b, analyzer, paths)) {
        closure.add(b.batchId());
        frontier.add(b.batchId());
      }
    }
    while (!frontier.isEmpty()) {
      for (String dep : byId.get(frontier.remove(frontier.size() - 1)).dependsOn()) {
        if (byId.containsKey(dep) && closure.add(dep)) {
          frontier.add(dep);
        }
      }
    }
    return active.stream().map(ActiveBatch::batchId).filter(closure::contains).toList();
  }

  private static boolean conflicts(ActiveBatch b, SubmitQueueConfig.ConflictAnalyzer analyzer, Set<String> paths) {
    return analyzer == SubmitQueueConfig.ConflictAnalyzer.SERIAL || b.paths().stream().anyMatch(paths::contains);
  }

  static boolean overlaps(Tx tx, String batchId, Set<String> paths) throws SQLException {
    for (String requestId : Batches.members(tx, batchId)) {
      RequestRecord r = Requests.get(tx, requestId);
      for (String p : r.paths()) {
        if (paths.contains(p)) {
          return true;
        }
      }
    }
    return false;
  }
}
