package dev.conveyor.submitqueue.batch;

import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashSet;
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
    List<String> active = Batches.active(tx, queue.name());
    Set<String> direct = new LinkedHashSet<>();
    for (String batchId : active) {
      if (queue.analyzer() == SubmitQueueConfig.ConflictAnalyzer.SERIAL || overlaps(tx, batchId, paths)) {
        direct.add(batchId);
      }
    }
    Set<String> closure = new HashSet<>(direct);
    List<String> frontier = new ArrayList<>(direct);
    while (!frontier.isEmpty()) {
      String next = frontier.remove(frontier.size() - 1);
      for (String dep : Batches.dependencies(tx, next)) {
        if (active.contains(dep) && closure.add(dep)) {
          frontier.add(dep);
        }
      }
    }
    return active.stream().filter(closure::contains).toList();
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
