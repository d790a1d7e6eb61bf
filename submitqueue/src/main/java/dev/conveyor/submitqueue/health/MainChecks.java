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

  /**
   * Records a verdict. The first red one pauses the queue (and tells its webhook); while the queue stays
   * paused by this verification, every verdict takes the {@link Bisection} on, which asks {@code verify} for
   * the commits it needs judged and, once it finds the culprit, names it in the pause reason. Answers the
   * pause reason when this verdict set one, or null.
   */
  public static String record(Tx tx, Notifications notifications, Bisection.Verify verify, String checkId,
      String queue, String sha, String batchId, boolean green, String reason) throws SQLException {
    tx.update("INSERT INTO sq_main_checks (check_id, queue, sha, batch_id, state, reason, checked_at)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?)", checkId, queue, sha, batchId, green ? "GREEN" : "RED", reason, tx.nowMillis());
    QueueStates.Current now = QueueStates.get(tx, queue);
    boolean pausedByUs = now.paused() && PAUSED_BY.equals(now.changedBy());
    if (green && !pausedByUs) {
      return null;
    }
    String why = null;
    if (!green && !pausedByUs) {
      String requests = String.join(", ", tx.query("SELECT request_id FROM sq_batch_members WHERE batch_id = ?"
          + " ORDER BY ord", rs -> rs.getString(1), batchId));
      Optional<Check> lastGreen = latest(tx, queue, true);
      why = bounded("main is red at " + abbrev(sha) + " (" + reason + "), the commit batch " + batchId
          + (requests.isEmpty() ? "" : " (" + requests + ")") + " landed; last green "
          + lastGreen.map(c -> abbrev(c.sha())).orElse("unknown") + "; finding the culprit."
          + " Fix main, then 'conveyor queue resume " + queue + "'");
      QueueStates.set(tx, queue, QueueState.QUEUE_PAUSED, why, PAUSED_BY);
      notifications.mainRed(tx, queue, sha, checkId, why);
      notifications.queueState(tx, queue, "paused", why, PAUSED_BY);
    }
    if (Bisection.advance(tx, queue, verify) instanceof Bisection.Found found) {
      LandedCommits.Commit c = found.culprit();
      String named = bounded("main is red at " + abbrev(c.sha()) + " (" + found.reason() + "): request "
          + c.requestId() + " (batch " + c.batchId() + ") is the culprit; bisecting the commits landed since the"
          + " last green one found its commit red and the commit before it green (last green "
          + found.lastGreen().map(MainChecks::abbrev).orElse("unknown: the base before the first recorded landing,"
              + " assumed") + "). Revert it with 'conveyor revert " + c.requestId() + "', or fix main, then 'conveyor queue"
          + " resume " + queue + "'");
      QueueStates.set(tx, queue, QueueState.QUEUE_PAUSED, named, PAUSED_BY); // unchanged when already named
      why = why == null ? null : named;
    }
    return why;
  }

  private static String bounded(String why) {
    return why.length() > 1024 ? why.substring(0, 1023) + "…" : why;
  }

  /** The newest check of the queue, or its newest green one. */
  public static Optional<Check> latest(Tx tx, String queue, boolean greenOnly) throws SQLException {
    return tx.queryOne("SELECT check_id, queue, sha, batch_id, state, reason, checked_at FROM sq_main_checks"
        + " WHERE queue = ?" + (greenOnly ? " AND state = 'GREEN'" : "") + " ORDER BY checked_at DESC, check_id DESC"
        + " LIMIT 1", rs -> new Check(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4),
        "GREEN".equals(rs.getString(5)), rs.getString(6), rs.getLong(7)), queue);
  }

  static String abbrev(String sha) {
    return sha.length() > 12 ? sha.substring(0, 12) : sha;
  }
}
