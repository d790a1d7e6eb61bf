package dev.conveyor.submitqueue.health;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.List;

/**
 * The commits each landed request put on its queue's target, in landing order: what post-merge
 * verification bisects when main turns red, and what a revert takes back.
 */
public final class LandedCommits {
  /** One commit on the target, at its place in the queue's landings. */
  public record Commit(long landedSeq, int ord, String sha, String requestId, String batchId) {}

  /** One request's commits as the merge reported them (a request's step id is its request id). */
  public record Step(String requestId, List<String> shas) {}

  private LandedCommits() {}

  /** Records a batch's landing, in the transaction that counted it (after {@code Landings.record}). */
  public static void record(Tx tx, String queue, String batchId, List<Step> steps) throws SQLException {
    long seq = tx.queryLong("SELECT COALESCE(landed_seq, 0) FROM sq_batches WHERE batch_id = ?", batchId);
    int ord = 0;
    for (Step step : steps) {
      for (String sha : step.shas()) {
        tx.update("INSERT INTO sq_landed_commits (queue, landed_seq, ord, sha, request_id, batch_id)"
            + " VALUES (?, ?, ?, ?, ?, ?)", queue, seq, ord++, sha, step.requestId(), batchId);
      }
    }
  }

  /** A request's commits, oldest first (empty when it landed none, or before they were recorded). */
  public static List<Commit> ofRequest(Tx tx, String requestId) throws SQLException {
    return tx.query("SELECT landed_seq, ord, sha, request_id, batch_id FROM sq_landed_commits WHERE request_id = ?"
        + " ORDER BY landed_seq, ord", LandedCommits::map, requestId);
  }

  /** The commit landed on {@code queue}'s target just before {@code c}, if one was recorded. */
  public static java.util.Optional<String> before(Tx tx, String queue, Commit c) throws SQLException {
    return tx.queryOne("SELECT sha FROM sq_landed_commits WHERE queue = ? AND (landed_seq < ? OR (landed_seq = ?"
        + " AND ord < ?)) ORDER BY landed_seq DESC, ord DESC LIMIT 1", rs -> rs.getString(1), queue, c.landedSeq(),
        c.landedSeq(), c.ord());
  }

  /** The queue's commits after position ({@code seq}, {@code ord}), oldest first, at most {@code limit}. */
  static List<Commit> after(Tx tx, String queue, long seq, int ord, int limit) throws SQLException {
    return tx.query("SELECT landed_seq, ord, sha, request_id, batch_id FROM sq_landed_commits WHERE queue = ?"
        + " AND (landed_seq > ? OR (landed_seq = ? AND ord > ?)) ORDER BY landed_seq, ord LIMIT ?",
        LandedCommits::map, queue, seq, seq, ord, limit);
  }

  private static Commit map(java.sql.ResultSet rs) throws SQLException {
    return new Commit(rs.getLong(1), rs.getInt(2), rs.getString(3), rs.getString(4), rs.getString(5));
  }
}
