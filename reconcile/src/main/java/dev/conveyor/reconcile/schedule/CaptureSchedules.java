package dev.conveyor.reconcile.schedule;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.CaptureSchedule;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.Tx;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.reconcile.planning.CaptureTables;
import dev.conveyor.reconcile.planning.IcebergSnapshots;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Scheduled capture: per table, a capture every {@code every}, started by whichever node finds it due
 * first. Every node runs {@link #runDue}; a due schedule is taken by a compare-and-set on its
 * {@code next_due_at} in the transaction that enqueues the capture, so exactly one node starts each
 * run, and a node that dies after that leaves a queued job any node's planner runs. A run whose previous
 * capture is still going starts nothing (it would only queue behind it). Missed runs (every node down)
 * are not replayed one by one: the next run captures everything new since the last.
 *
 * <p>SQL: {@code SELECT … FROM capture_schedules WHERE next_due_at <= ? ORDER BY next_due_at LIMIT ?};
 * per due row {@code UPDATE capture_schedules SET next_due_at = ?, last_job_id = ?, last_started_at = ?
 * WHERE table_id = ? AND next_due_at = ?} and the job's insert, in one transaction.
 */
public final class CaptureSchedules {
  private static final Logger log = LoggerFactory.getLogger(CaptureSchedules.class);
  public static final Duration MIN_EVERY = Duration.ofSeconds(10);
  public static final Duration MAX_EVERY = Duration.ofDays(366);
  private static final String COLUMNS = "table_id, every_ms, policy, since_ms, next_due_at, last_job_id,"
      + " last_started_at, created_at";

  private final Ledger ledger;
  private final CaptureTables tables;
  private final CapturePlanner planner;

  public CaptureSchedules(Ledger ledger, CaptureTables tables, CapturePlanner planner) {
    this.ledger = ledger;
    this.tables = tables;
    this.planner = planner;
  }

  /**
   * Sets (or replaces) a table's schedule; its first run is due at once. For an Iceberg table, the
   * snapshots it captures are its current one and every one committed after it.
   */
  public CaptureSchedule set(String tableId, Duration every, CapturePolicy policy) {
    if (every == null || every.compareTo(MIN_EVERY) < 0 || every.compareTo(MAX_EVERY) > 0) {
      throw new IllegalArgumentException("every_ms must be between " + MIN_EVERY.toMillis() + " (10 s) and "
          + MAX_EVERY.toMillis() + " (366 days), got " + (every == null ? null : every.toMillis()));
    }
    ConnectorSpec connector = tables.connector(tableId).orElseThrow(() -> new IllegalArgumentException(
        "table_id '" + tableId + "' is not registered; register it first"));
    long since = connector.getKind() == ConnectorSpec.Kind.ICEBERG
        ? IcebergSnapshots.currentCommitMillis(connector) : 0;
    return ledger.transact(tx -> {
      long now = tx.nowMillis();
      int updated = tx.update("UPDATE capture_schedules SET every_ms = ?, policy = ?, next_due_at = ?, updated_at = ?"
          + " WHERE table_id = ?", every.toMillis(), policy.toByteArray(), now, now, tableId);
      if (updated == 0) {
        tx.update("INSERT INTO capture_schedules (table_id, every_ms, policy, since_ms, next_due_at, created_at,"
            + " updated_at) VALUES (?, ?, ?, ?, ?, ?, ?)", tableId, every.toMillis(), policy.toByteArray(), since, now,
            now, now);
      }
      return find(tx, tableId).orElseThrow();
    });
  }

  /** Deletes a table's schedule; answers whether it had one. A capture it started runs on. */
  public boolean remove(String tableId) {
    return ledger.transact(tx -> tx.update("DELETE FROM capture_schedules WHERE table_id = ?", tableId) == 1);
  }

  public List<CaptureSchedule> list() {
    return ledger.transact(tx -> tx.query("SELECT " + COLUMNS + " FROM capture_schedules ORDER BY table_id",
        CaptureSchedules::row));
  }

  public Optional<CaptureSchedule> find(String tableId) {
    return ledger.transact(tx -> find(tx, tableId));
  }

  private static Optional<CaptureSchedule> find(Tx tx, String tableId) throws SQLException {
    return tx.queryOne("SELECT " + COLUMNS + " FROM capture_schedules WHERE table_id = ?", CaptureSchedules::row,
        tableId);
  }

  /** Starts the captures of up to {@code max} due schedules this node wins; answers how many it started. */
  public int runDue(int max) {
    List<Object[]> due = ledger.transact(tx -> tx.query("SELECT table_id, every_ms, policy, since_ms, next_due_at,"
        + " last_job_id FROM capture_schedules WHERE next_due_at <= ? ORDER BY next_due_at LIMIT ?",
        rs -> new Object[] {rs.getString(1), rs.getLong(2), rs.getBytes(3), rs.getLong(4), rs.getLong(5),
            rs.getString(6)}, tx.nowMillis(), max));
    int started = 0;
    for (Object[] row : due) {
      if (runOne((String) row[0], (long) row[1], (byte[]) row[2], (long) row[3], (long) row[4], (String) row[5])) {
        started++;
      }
    }
    return started;
  }

  private boolean runOne(String tableId, long everyMs, byte[] policyBytes, long sinceMs, long dueAt, String lastJob) {
    CapturePolicy policy;
    try {
      policy = CapturePolicy.parseFrom(policyBytes);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("the stored policy of table " + tableId + "'s schedule is unreadable", e);
    }
    dev.conveyor.ledger.jobs.JobSpec spec;
    try {
      spec = planner.scheduledCapture(tableId, policy, sinceMs);
    } catch (IllegalArgumentException e) {
      log.warn("table {}: its schedule cannot start a capture ({}); remove the schedule or register the table",
          tableId, e.getMessage());
      return false;
    }
    return ledger.transact(tx -> {
      long now = tx.nowMillis();
      long next = dueAt + everyMs * ((now - dueAt) / everyMs + 1); // the first due time after now
      // the compare-and-set first: a node that loses it writes nothing more
      int won = tx.update("UPDATE capture_schedules SET next_due_at = ?, updated_at = ? WHERE table_id = ? AND"
          + " next_due_at = ?", next, now, tableId, dueAt);
      if (won != 1) {
        return false;
      }
      boolean previousRunning = lastJob != null && tx.queryOne("SELECT state FROM jobs WHERE id = ?",
          rs -> rs.getString(1), lastJob).map(s -> !dev.conveyor.ledger.jobs.JobState.valueOf(s).isTerminal())
          .orElse(false);
      if (previousRunning) {
        log.info("table {}: the scheduled capture is due but job {} (the previous one) is still running; next"
            + " run at {}", tableId, lastJob, java.time.Instant.ofEpochMilli(next));
        return false;
      }
      String jobId = ledger.jobs().enqueue(tx, spec).jobId();
      tx.update("UPDATE capture_schedules SET last_job_id = ?, last_started_at = ? WHERE table_id = ?", jobId, now,
          tableId);
      log.info("table {}: scheduled capture started (job {}); next run at {}", tableId, jobId,
          java.time.Instant.ofEpochMilli(next));
      return true;
    });
  }

  private static CaptureSchedule row(ResultSet rs) throws SQLException {
    CapturePolicy policy;
    try {
      policy = CapturePolicy.parseFrom(rs.getBytes(3));
    } catch (InvalidProtocolBufferException e) {
      throw new SQLException("the stored policy of table " + rs.getString(1) + "'s schedule is unreadable", e);
    }
    return CaptureSchedule.newBuilder().setTableId(rs.getString(1)).setEveryMs(rs.getLong(2)).setPolicy(policy)
        .setNextDueAtMs(rs.getLong(5)).setLastJobId(rs.getString(6) == null ? "" : rs.getString(6))
        .setLastStartedAtMs(rs.getLong(7)).setCreatedAtMs(rs.getLong(8)).build();
  }
}
