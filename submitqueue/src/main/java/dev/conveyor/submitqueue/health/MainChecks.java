package dev.conveyor.submitqueue.health;

import dev.conveyor.api.submitqueue.QueueState;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.control.QueueStates;
import dev.conveyor.submitqueue.notify.Notifications;
import java.sql.SQLException;
import java.util.Optional;

/**
 * The target branch's health as post-merge verification found it: one row per checked commit (GREEN or
 * RED). A RED commit pauses the queue, naming the commit, the batch that made it, its requests and the last
 * green commit, so nothing more lands on a red main until someone has looked.
 */
public final class MainChecks {
  /** One checked commit. */
  public record Check(String checkId, String queue, String sha, String batchId, boolean green, String reason,
      long checkedAt) {}

  /** Who pauses a queue whose main turned red (in the queue's state log). */
  public static final String PAUSED_BY = "post-merge verification";

  private MainChecks() {}

  /** Records a verdict; a red one pauses the queue (and tells its webhook). Answers the pause reason, or null. */
  public static String record(Tx tx, Notifications notifications, String checkId, String queue, String sha,
      String batchId, boolean green, String reason) throws SQLException {
    tx.update("INSERT INTO sq_main_checks (check_id, queue, sha, batch_id, state, reason, checked_at)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?)", checkId, queue, sha, batchId, green ? "GREEN" : "RED", reason, tx.nowMillis());
    if (green) {
      return null;
    }
    String requests = String.join(", ", tx.query("SELECT request_id FROM sq_batch_members WHERE batch_id = ?"
        + " ORDER BY ord", rs -> rs.getString(1), batchId));
    Optional<Check> lastGreen = latest(tx, queue, true);
    String why = "main is red at " + abbrev(sha) + " (" + reason + "), the commit batch " + batchId
        + (requests.isEmpty() ? "" : " (" + requests + ")") + " landed; last green "
        + lastGreen.map(c -> abbrev(c.sha())).orElse("unknown") + ". Fix main, then 'conveyor queue resume " + queue + "'";
    why = why.length() > 1024 ? why.substring(0, 1023) + "…" : why;
    QueueStates.set(tx, queue, QueueState.QUEUE_PAUSED, why, PAUSED_BY);
    notifications.mainRed(tx, queue, sha, checkId, why);
    notifications.queueState(tx, queue, "paused", why, PAUSED_BY);
    return why;
  }

  /** The newest check of the queue, or its newest green one. */
  public static Optional<Check> latest(Tx tx, String queue, boolean greenOnly) throws SQLException {
    return tx.queryOne("SELECT check_id, queue, sha, batch_id, state, reason, checked_at FROM sq_main_checks"
        + " WHERE queue = ?" + (greenOnly ? " AND state = 'GREEN'" : "") + " ORDER BY checked_at DESC, check_id DESC"
        + " LIMIT 1", rs -> new Check(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
        "GREEN".equals(rs.getString(5)), rs.getString(6), rs.getLong(7)), queue);
  }

  private static String abbrev(String sha) {
    return sha.length() > 12 ? sha.substring(0, 12) : sha;
  }
}
