package dev.conveyor.submitqueue.batch;

import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Which active batches a new batch must follow: those whose changes touch a path it touches (or, for
 * a serial queue, all of them), plus what those follow in turn, so a speculative tree that assumes a
 * dependency lands also contains everything that dependency needs.
 */
public final class ConflictAnalysis {
  private ConflictAnalysis() {}

  public static List<String> dependencies(Tx tx, SubmitQueueConfig queue, Set<String> paths) throws SQLException {
    // the active batches first, then what they touch and follow by id, with no state filter: on PostgreSQL
    // each statement sees its own snapshot, and a batch split in between must still count (followSplits
    // re-points to its parts later); two reads for the whole queue, not two per active batch
    List<String> ids = Batches.active(tx, queue.name());
    if (ids.isEmpty()) {
      return List.of();
    }
    String in = "(" + String.join(", ", java.util.Collections.nCopies(ids.size(), "?")) + ")";
    java.util.Map<String, Set<String>> touched = new java.util.HashMap<>();
    tx.query("SELECT x.batch_id, r.paths FROM sq_batch_members x JOIN sq_requests r ON r.request_id = x.request_id"
        + " WHERE x.batch_id IN " + in, rs -> {
          Set<String> p = touched.computeIfAbsent(rs.getString(1), k -> new HashSet<>());
          String text = rs.getString(2);
          if (text != null && !text.isEmpty()) {
            p.addAll(java.util.Arrays.asList(text.split("\n")));
          }
          return null;
        }, ids.toArray());
    java.util.Map<String, List<String>> follows = new java.util.HashMap<>();
    tx.query("SELECT batch_id, depends_on FROM sq_batch_deps WHERE batch_id IN " + in, rs -> follows.computeIfAbsent(
        rs.getString(1), k -> new ArrayList<>()).add(rs.getString(2)), ids.toArray());
    List<ActiveBatch> active = new ArrayList<>();
    for (String batchId : ids) {
      active.add(new ActiveBatch(batchId, touched.getOrDefault(batchId, Set.of()), follows.getOrDefault(batchId,
          List.of())));
    }
    return dependencies(active, queue.analyzer(), paths);
  }

  /** An active batch as conflict analysis sees it: the paths its requests touch and the batches it follows. */
  public record ActiveBatch(String batchId, Set<String> paths, List<String> dependsOn) {
    public ActiveBatch {
      paths = Set.copyOf(paths);
      dependsOn = List.copyOf(dependsOn);
    }
  }

  /**
   * The batches of {@code active} (oldest first) that a batch touching {@code paths} must follow, oldest
   * first: those touching a common path (every one, for a serial queue) and, transitively, what they follow.
   */
  public static List<String> dependencies(List<ActiveBatch> active, SubmitQueueConfig.ConflictAnalyzer analyzer,
      Set<String> paths) {
    java.util.Map<String, ActiveBatch> byId = new java.util.HashMap<>();
    active.forEach(b -> byId.put(b.batchId(), b));
    Set<String> closure = new HashSet<>();
    List<String> frontier = new ArrayList<>();
    for (ActiveBatch b : active) {
      if (analyzer == SubmitQueueConfig.ConflictAnalyzer.SERIAL || b.paths().stream().anyMatch(paths::contains)) {
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
