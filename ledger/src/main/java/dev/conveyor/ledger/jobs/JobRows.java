package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.OptimisticConflictException;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.JobErrors.JobNotFoundException;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/** Reading job rows and the single compare-and-swap path every state change goes through. */
final class JobRows {
  static final String COLUMNS = "id, kind, state, execution_class, lane, lane_key, pinned_executor, dedupe_key,"
      + " parent_id, root_id, payload, attempts, max_attempts, run_after, lease_epoch, lease_owner,"
      + " lease_expires_at, cancel_requested, progress_done, progress_total, progress_failed, progress_bytes,"
      + " progress_message, children_fingerprint, last_completion_epoch, last_completion_hash, last_error,"
      + " created_at, updated_at, started_at, finished_at, version, after_siblings";

  /** {@link #COLUMNS} qualified with the alias {@code j}. */
  static final String ALIASED_COLUMNS = "j." + COLUMNS.replace(", ", ", j.");

  private JobRows() {}

  static Job map(ResultSet rs) throws SQLException {
    return new Job(
        rs.getString("id"),
        JobKind.valueOf(rs.getString("kind")),
        JobState.valueOf(rs.getString("state")),
        rs.getString("execution_class"),
        rs.getString("lane"),
        rs.getString("lane_key"),
        rs.getString("pinned_executor"),
        rs.getString("dedupe_key"),
        rs.getString("parent_id"),
        rs.getString("root_id"),
        rs.getBytes("payload"),
        rs.getInt("attempts"),
        rs.getInt("max_attempts"),
        instant(rs, "run_after"),
        rs.getString("lease_epoch"),
        rs.getString("lease_owner"),
        instant(rs, "lease_expires_at"),
        rs.getInt("cancel_requested") != 0,
        new JobProgress(rs.getLong("progress_done"), rs.getLong("progress_total"), rs.getLong("progress_failed"),
            rs.getLong("progress_bytes"), rs.getString("progress_message")),
        rs.getString("children_fingerprint"),
        rs.getString("last_completion_epoch"),
        rs.getString("last_completion_hash"),
        rs.getString("last_error"),
        instant(rs, "created_at"),
        instant(rs, "updated_at"),
        instant(rs, "started_at"),
        instant(rs, "finished_at"),
        rs.getLong("version"),
        rs.getInt("after_siblings") != 0);
  }

  private static Instant instant(ResultSet rs, String column) throws SQLException {
    long v = rs.getLong(column);
    return rs.wasNull() ? null : Instant.ofEpochMilli(v);
  }

  static Optional<Job> find(Tx tx, String id) throws SQLException {
    return tx.queryOne("SELECT " + COLUMNS + " FROM jobs WHERE id = ?", JobRows::map, id);
  }

  static Job require(Tx tx, String id) throws SQLException {
    requireId("job_id", id);
    return find(tx, id).orElseThrow(() -> new JobNotFoundException(id));
  }

  /** Reads and row-locks a job (PostgreSQL), serialising concurrent resolutions of one parent. */
  static Optional<Job> lock(Tx tx, String id) throws SQLException {
    return tx.queryOne("SELECT " + COLUMNS + " FROM jobs WHERE id = ?" + tx.dialect().forUpdate(), JobRows::map, id);
  }

  static List<Job> children(Tx tx, String parentId) throws SQLException {
    return tx.query("SELECT " + COLUMNS + " FROM jobs WHERE parent_id = ? ORDER BY child_ordinal, id",
        JobRows::map, parentId);
  }

  /**
   * Applies {@code assignments} to {@code job} only if nobody changed it since it was read.
   * A mismatch is an {@link OptimisticConflictException}, which re-runs the transaction.
   */
  static void cas(Tx tx, Job job, String assignments, Object... args) throws SQLException {
    Object[] all = new Object[args.length + 3];
    System.arraycopy(args, 0, all, 0, args.length);
    all[args.length] = tx.nowMillis();
    all[args.length + 1] = job.id();
    all[args.length + 2] = job.version();
    int n = tx.update("UPDATE jobs SET " + assignments + ", updated_at = ?, version = version + 1"
        + " WHERE id = ? AND version = ?", all);
    if (n != 1) {
      throw new OptimisticConflictException("job " + job.id() + " changed concurrently");
    }
  }

  /** Several jobs by id in one round trip. */
  static java.util.Map<String, Job> findAll(Tx tx, java.util.Collection<String> ids) throws SQLException {
    java.util.Map<String, Job> out = new java.util.HashMap<>();
    if (ids.isEmpty()) {
      return out;
    }
    for (Job j : tx.query("SELECT " + COLUMNS + " FROM jobs WHERE id IN (" + JobQueue.placeholders(ids.size()) + ")",
        JobRows::map, ids.toArray())) {
      out.put(j.id(), j);
    }
    return out;
  }

  /**
   * The batched form of {@link #cas}: one JDBC batch, the same assignments per job, each row
   * guarded by its own version. Any mismatch re-runs the transaction.
   */
  static void casAll(Tx tx, String assignments, List<Job> jobs, List<Object[]> argsPerJob) throws SQLException {
    List<Object[]> rows = new java.util.ArrayList<>(jobs.size());
    for (int i = 0; i < jobs.size(); i++) {
      Object[] args = argsPerJob.get(i);
      Object[] all = new Object[args.length + 3];
      System.arraycopy(args, 0, all, 0, args.length);
      all[args.length] = tx.nowMillis();
      all[args.length + 1] = jobs.get(i).id();
      all[args.length + 2] = jobs.get(i).version();
      rows.add(all);
    }
    int[] counts = tx.batch("UPDATE jobs SET " + assignments + ", updated_at = ?, version = version + 1"
        + " WHERE id = ? AND version = ?", rows);
    for (int i = 0; i < counts.length; i++) {
      // drivers may report SUCCESS_NO_INFO (-2) for batched rows; only an explicit 0 is a miss
      if (counts[i] == 0) {
        throw new OptimisticConflictException("job " + jobs.get(i).id() + " changed concurrently");
      }
    }
  }

  static void requireId(String field, String value) {
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(field + " must not be empty");
    }
  }
}
