package dev.conveyor.submitqueue.speculate;

import dev.conveyor.ledger.Tx;
import dev.conveyor.submitqueue.speculate.PathRecord.PathState;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Speculative paths and their builds, in the caller's transaction. */
public final class Paths {
  private static final String COLUMNS = "path_id, batch_id, assumptions, state, job_id, reason, conflict_step";

  private Paths() {}

  public static void insertBuilding(Tx tx, String batchId, Map<String, Boolean> assumptions, String jobId)
      throws SQLException {
    long now = tx.nowMillis();
    tx.update("INSERT INTO sq_paths (path_id, batch_id, assumptions, state, job_id, reason, created_at, updated_at,"
        + " base_landed) VALUES (?, ?, ?, 'BUILDING', ?, NULL, ?, ?, ?)", PathRecord.idOf(batchId, assumptions), batchId,
        PathRecord.encode(assumptions), jobId, now, now, Landings.countForBatch(tx, batchId));
  }

  public static Optional<PathRecord> find(Tx tx, String pathId) throws SQLException {
    return tx.queryOne("SELECT " + COLUMNS + " FROM sq_paths WHERE path_id = ?", Paths::row, pathId);
  }

  public static List<PathRecord> forBatch(Tx tx, String batchId) throws SQLException {
    return tx.query("SELECT " + COLUMNS + " FROM sq_paths WHERE batch_id = ? ORDER BY created_at, path_id", Paths::row,
        batchId);
  }

  /** Ends a BUILDING path; false when it already ended (a redelivered signal, or a cancel that came first). */
  public static boolean finish(Tx tx, String pathId, PathState to, String reason) throws SQLException {
    return finish(tx, pathId, to, reason, null);
  }

  /** As {@link #finish(Tx, String, PathState, String)}, naming the step whose change did not apply (or null). */
  public static boolean finish(Tx tx, String pathId, PathState to, String reason, String conflictStep)
      throws SQLException {
    return tx.update("UPDATE sq_paths SET state = ?, reason = ?, conflict_step = ?, updated_at = ? WHERE path_id = ?"
        + " AND state = 'BUILDING'", to.name(), reason, conflictStep, tx.nowMillis(), pathId) == 1;
  }

  /**
   * Records job {@code jobId}'s verdict on its BUILDING path; false when the path ended, was forgotten, or is
   * now built by another job (a preempted build's late verdict must not end the path's new build).
   */
  public static boolean finishBuild(Tx tx, String pathId, String jobId, PathState to, String reason,
      String conflictStep) throws SQLException {
    return tx.update("UPDATE sq_paths SET state = ?, reason = ?, conflict_step = ?, updated_at = ? WHERE path_id = ?"
        + " AND job_id = ? AND state = 'BUILDING'", to.name(), reason, conflictStep, tx.nowMillis(), pathId, jobId) == 1;
  }

  /** Hands a BUILDING path's build to a new job (its job ran out of attempts without a verdict). */
  public static boolean rebuild(Tx tx, String pathId, String oldJobId, String newJobId) throws SQLException {
    return tx.update("UPDATE sq_paths SET job_id = ?, rebuilds = rebuilds + 1, updated_at = ? WHERE path_id = ?"
        + " AND state = 'BUILDING' AND job_id = ?", newJobId, tx.nowMillis(), pathId, oldJobId) == 1;
  }

  /** Removes a BUILDING path (its build was preempted), so the planner may build it again. */
  public static boolean forget(Tx tx, String pathId) throws SQLException {
    return tx.update("DELETE FROM sq_paths WHERE path_id = ? AND state = 'BUILDING'", pathId) == 1;
  }

  /** Removes a FAILED path, so the planner builds it again (the re-verify rule). */
  public static boolean forgetFailed(Tx tx, String pathId) throws SQLException {
    return tx.update("DELETE FROM sq_paths WHERE path_id = ? AND state = 'FAILED'", pathId) == 1;
  }

  /** How many times the path's build was handed to a new job. */
  public static int rebuilds(Tx tx, String pathId) throws SQLException {
    return (int) tx.queryLong("SELECT rebuilds FROM sq_paths WHERE path_id = ?", pathId);
  }

  /** Builds running for the queue: what counts against its build budget. */
  public static long building(Tx tx, String queue) throws SQLException {
    return tx.queryLong("SELECT COUNT(*) FROM sq_paths p JOIN sq_batches b ON b.batch_id = p.batch_id"
        + " WHERE b.queue = ? AND p.state = 'BUILDING'", queue);
  }

  private static PathRecord row(ResultSet rs) throws SQLException {
    return new PathRecord(rs.getString(1), rs.getString(2), PathRecord.decode(rs.getString(3)),
        PathState.valueOf(rs.getString(4)), rs.getString(5), rs.getString(6), rs.getString(7));
  }
}
