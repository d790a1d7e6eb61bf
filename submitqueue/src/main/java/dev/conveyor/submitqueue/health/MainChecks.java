package dev.conveyor.submitqueue.health;

import dev.conveyor.api.submitqueue.QueueState;
import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.control.QueueStates;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.notify.Notifications;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import java.util.List;
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
   * Records a verdict and decides what it means for the queue, under the queue's row lock (so two verdicts
   * committing together on PostgreSQL decide one after the other):
   * <ul>
   *   <li>a queue a person paused or drains keeps that state (the verdict is only recorded);
   *   <li>a red landing check pauses an active queue, unless a change landed after it is already green (main
   *       recovered) or a revert is on its way through the queue; a bisection's own verdicts never pause;
   *   <li>while this verification holds the queue paused, every verdict takes the {@link Bisection} on: it
   *       asks {@code verify} for the changes it needs judged, names the culprit in the pause reason once
   *       found, and resumes the queue when main is green again after the red change.
   * </ul>
   * Answers the pause reason when this verdict paused the queue or named the culprit, or null.
   */
  public static String record(Tx tx, SubmitQueues queues, Signals signals, Bisection.Verify verify, String checkId,
      String queue, String sha, String batchId, boolean green, boolean landingCheck, String reason)
      throws SQLException {
    QueueStates.lock(tx, queue);
    tx.update("INSERT INTO sq_main_checks (check_id, queue, sha, batch_id, state, reason, checked_at)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?)", checkId, queue, sha, batchId, green ? "GREEN" : "RED", reason, tx.nowMillis());
    Notifications notifications = new Notifications(queues, signals);
    QueueStates.Current now = QueueStates.get(tx, queue);
    boolean ours = now.paused() && PAUSED_BY.equals(now.changedBy());
    if ((now.paused() || now.draining()) && !ours) {
      return null; // a person's pause or drain stands; they will read main's health on the status page
    }
    String said = null;
    Optional<LandedCommits.Commit> lastGreen = Bisection.lastGreen(tx, queue);
    if (!ours) {
      if (green || !landingCheck || Bisection.greenAfter(tx, queue, sha, lastGreen) || revertUnderWay(tx, queue)) {
        return null;
      }
      String requests = String.join(", ", tx.query("SELECT request_id FROM sq_batch_members WHERE batch_id = ?"
          + " ORDER BY ord", rs -> rs.getString(1), batchId));
      said = bounded("main is red at " + abbrev(sha) + ", where batch " + batchId
          + (requests.isEmpty() ? "" : " (" + requests + ")") + " landed; finding the culprit since the last green"
          + " commit. Fix main, then 'conveyor queue resume " + queue + "'. The check: " + reason);
      QueueStates.set(tx, queue, QueueState.QUEUE_PAUSED, said, PAUSED_BY);
      notifications.mainRed(tx, queue, sha, checkId, said);
      notifications.queueState(tx, queue, "paused", said, PAUSED_BY);
    }
    Bisection.Step step = Bisection.advance(tx, queue, lastGreen, verify);
    if (step instanceof Bisection.Found found) {
      String named = culpritReason(tx, queue, found);
      if (!named.equals(QueueStates.get(tx, queue).reason())) {
        QueueStates.set(tx, queue, QueueState.QUEUE_PAUSED, named, PAUSED_BY);
        notifications.queueState(tx, queue, "paused", named, PAUSED_BY);
        said = named;
      }
    } else if (step instanceof Bisection.Healthy healthy && said == null && green) {
      String why = "main is green again" + healthy.lastGreen().map(c -> " at " + abbrev(c.sha())).orElse("");
      QueueStates.set(tx, queue, QueueState.QUEUE_ACTIVE, why, PAUSED_BY);
      notifications.queueState(tx, queue, "resumed", why, PAUSED_BY);
      List<String> active = Batches.active(tx, queue);
      if (!active.isEmpty()) { // plan again: what waited while paused goes on
        signals.batch(tx, SubmitQueueTopics.SPECULATE, queue, active.get(0), "queue-state-" + tx.nowMillis());
      }
    }
    return said;
  }

  /** The pause reason naming a culprit: who, how it was found, what to do; the check's own words last. */
  private static String culpritReason(Tx tx, String queue, Bisection.Found found) throws SQLException {
    LandedCommits.Commit c = found.culprit();
    String lastGreen = found.lastGreen().map(MainChecks::abbrev).orElse("unknown: the commit before "
        + abbrev(c.sha()) + " was never judged, and is assumed green");
    Optional<String> revertedAs = revertOf(tx, queue, c.requestId(), true);
    if (revertedAs.isPresent()) {
      return bounded("main is still red after request " + c.requestId() + " was reverted (as " + revertedAs.get()
          + "): a change landed after it is red as well, and while " + c.requestId() + " was on main the search"
          + " cannot tell which. Fix main, then 'conveyor queue resume " + queue + "'. The check at "
          + abbrev(c.sha()) + ": " + found.reason());
    }
    return bounded("request " + c.requestId() + " (batch " + c.batchId() + ") is the culprit: main is red at "
        + abbrev(c.sha()) + " and the commit before it green (last green " + lastGreen + "), found by bisecting"
        + " the commits landed since." + (found.gap() ? " Commits the queue did not land lie between the two and"
        + " may be to blame instead." : "") + " Revert it with 'conveyor revert " + c.requestId() + "', or fix"
        + " main, then 'conveyor queue resume " + queue + "'. The check: " + found.reason());
  }

  /** Whether a revert is on its way through the queue (a live request of a revert ref). */
  private static boolean revertUnderWay(Tx tx, String queue) throws SQLException {
    return tx.queryLong("SELECT COUNT(*) FROM sq_requests WHERE queue = ? AND state NOT IN ('LANDED', 'ERROR',"
        + " 'CANCELLED') AND change_key LIKE ?", queue, "change://origin/" + revertRefPrefix(queue) + "%") > 0;
  }

  /** The request that reverts (landed, or live) request {@code requestId} of {@code queue}, if any. */
  public static Optional<String> revertOf(Tx tx, String queue, String requestId, boolean landed) throws SQLException {
    String n = requestId.substring(requestId.lastIndexOf('/') + 1);
    return tx.queryOne("SELECT request_id FROM sq_requests WHERE queue = ? AND change_key LIKE ? AND state "
        + (landed ? "= 'LANDED'" : "NOT IN ('LANDED', 'ERROR', 'CANCELLED')") + " ORDER BY n DESC LIMIT 1",
        rs -> rs.getString(1), queue, "change://origin/" + revertRefPrefix(queue) + n + "/%");
  }

  /** Where reverts of the queue's requests are pushed: {@code refs/conveyor/<queue>/revert/}. */
  public static String revertRefPrefix(String queue) {
    return dev.conveyor.runway.merge.StagingRefs.PREFIX + queue + "/revert/";
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
