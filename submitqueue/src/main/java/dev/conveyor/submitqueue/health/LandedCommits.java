package dev.conveyor.submitqueue.health;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.List;

/**
 * The commits each landed request put on its queue's target, in landing order: what post-merge
 * verification bisects when main turns red, and what a revert takes back.
 */
public final class LandedCommits {
  /**
   * One change on the target, at its place in the queue's landings: its commits are the first-parent commits
   * after {@code baseSha} up to {@code sha}.
   */
  public record Commit(long landedSeq, int ord, String sha, String baseSha, String requestId, String batchId) {}

  /**
   * One request's changes as the merge reported them (a request's step id is its request id): the last commit
   * of each, and the target's tip before it.
   */
  public record Step(String requestId, List<String> shas, List<String> bases) {}

  private LandedCommits() {}

  /** Records a batch's landing, in the transaction that counted it (after {@code Landings.record}). */
  public static void record(Tx tx, String queue, String batchId, List<Step> steps) throws SQLException {
    long seq = tx.queryLong("SELECT COALESCE(landed_seq, 0) FROM sq_batches WHERE batch_id = ?", batchId);
    int ord = 0;
    for (Step step : steps) {
      for (int i = 0; i < step.shas().size(); i++) {
        // a merge result from a Runway that does not report bases: unknown (no revert, no gap claimed)
        String base = i < step.bases().size() ? step.bases().get(i) : "";
        tx.update("INSERT INTO sq_landed_commits (queue, landed_seq, ord, sha, base_sha, request_id, batch_id)"
            + " VALUES (?, ?, ?, ?, ?, ?, ?)", queue, seq, ord++, step.shas().get(i), base, step.requestId(), batchId);
      }
    }
  }

  /** A request's commits, oldest first (empty when it landed none, or before they were recorded). */
  public static List<Commit> ofRequest(Tx tx, String requestId) throws SQLException {
    return tx.query("SELECT landed_seq, ord, sha, base_sha, request_id, batch_id FROM sq_landed_commits WHERE request_id = ?"
        + " ORDER BY landed_seq, ord", LandedCommits::map, requestId);
  }

  /** The queue's commits after position ({@code seq}, {@code ord}), oldest first, at most {@code limit}. */
  static List<Commit> after(Tx tx, String queue, long seq, int ord, int limit) throws SQLException {
    return tx.query("SELECT landed_seq, ord, sha, base_sha, request_id, batch_id FROM sq_landed_commits WHERE queue = ?"
        + " AND (landed_seq > ? OR (landed_seq = ? AND ord > ?)) ORDER BY landed_seq, ord LIMIT ?",
        LandedCommits::map, queue, seq, seq, ord, limit);
  }

  private static Commit map(java.sql.ResultSet rs) throws SQLException {
    return new Commit(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4), rs.getString(5),
        rs.getString(6));
  }
}
