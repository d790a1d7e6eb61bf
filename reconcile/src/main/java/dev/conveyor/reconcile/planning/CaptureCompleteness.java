package dev.conveyor.reconcile.planning;

import dev.conveyor.api.reconcile.SnapshotCompleteness;
import dev.conveyor.api.reconcile.UnreadableFile;
import dev.conveyor.ledger.Tx;
import java.nio.file.Path;
import java.sql.SQLException;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;

/**
 * How much of a finalized snapshot was captured, read from the ledger for the control plane's
 * responses, {@code capture status}/{@code capture stats} and the status page. Lists at most
 * {@link #MAX_LISTED} unreadable files (by path) and counts the rest.
 */
public final class CaptureCompleteness {
  public static final int MAX_LISTED = 100;
  private static final String COLUMNS = "table_id, snapshot_id, files, files_planned, files_unreadable, statistics_file";

  private CaptureCompleteness() {}

  public static Optional<SnapshotCompleteness> ofSnapshot(Tx tx, String tableId, String snapshotId, int listed)
      throws SQLException {
    Optional<SnapshotCompleteness.Builder> row = tx.queryOne("SELECT " + COLUMNS + " FROM capture_snapshots"
        + " WHERE table_id = ? AND snapshot_id = ?", CaptureCompleteness::row, tableId, snapshotId);
    return row.isEmpty() ? Optional.empty() : Optional.of(withFiles(tx, row.get(), listed));
  }

  /** The completeness of each finalizer job among {@code jobIds} that has finalized its snapshot. */
  public static Map<String, SnapshotCompleteness> ofFinalizers(Tx tx, Collection<String> jobIds, int listed)
      throws SQLException {
    Map<String, SnapshotCompleteness> out = new LinkedHashMap<>();
    if (jobIds.isEmpty()) {
      return out;
    }
    String in = String.join(",", java.util.Collections.nCopies(jobIds.size(), "?"));
    List<Object[]> rows = tx.query("SELECT job_id, " + COLUMNS + " FROM capture_snapshots WHERE job_id IN (" + in
        + ")", rs -> new Object[] {rs.getString(1), row(rs, 1)}, jobIds.toArray());
    for (Object[] r : rows) {
      out.put((String) r[0], withFiles(tx, (SnapshotCompleteness.Builder) r[1], listed));
    }
    return out;
  }

  /** For people: "complete: 8 of 8 files" or "partial: 6 of 8 files; 2 unreadable: a.parquet (truncated: …), …". */
  public static String describe(SnapshotCompleteness c) {
    StringBuilder sb = new StringBuilder(c.getPartial() ? "partial: " : "complete: ").append(c.getFilesCaptured())
        .append(" of ").append(c.getFilesPlanned()).append(" files");
    if (c.getUnreadableTotal() > 0) {
      sb.append("; ").append(c.getUnreadableTotal()).append(" unreadable: ");
      List<String> named = c.getUnreadableList().stream().map(u -> Path.of(u.getPath()).getFileName() + " ("
          + u.getCause().name().toLowerCase(java.util.Locale.ROOT).replace('_', ' ') + ": " + u.getMessage() + ")")
          .toList();
      sb.append(String.join(", ", named));
      if (c.getUnreadableTotal() > named.size()) {
        sb.append(" and ").append(c.getUnreadableTotal() - named.size()).append(" more");
      }
    }
    return sb.toString();
  }

  private static SnapshotCompleteness.Builder row(java.sql.ResultSet rs) throws SQLException {
    return row(rs, 0);
  }

  private static SnapshotCompleteness.Builder row(java.sql.ResultSet rs, int offset) throws SQLException {
    long captured = rs.getLong(offset + 3);
    long planned = rs.getLong(offset + 4);
    if (rs.wasNull()) {
      planned = captured; // finalized before completeness was recorded: every planned file was captured
    }
    long unreadable = rs.getLong(offset + 5);
    return SnapshotCompleteness.newBuilder().setTableId(rs.getString(offset + 1)).setSnapshotId(rs.getString(offset + 2))
        .setFilesPlanned(planned).setFilesCaptured(captured).setPartial(unreadable > 0 || captured < planned)
        .setUnreadableTotal(unreadable).setStatisticsFile(Objects.requireNonNullElse(rs.getString(offset + 6), ""));
  }

  private static SnapshotCompleteness withFiles(Tx tx, SnapshotCompleteness.Builder c, int listed) throws SQLException {
    if (c.getUnreadableTotal() > 0 && listed > 0) {
      c.addAllUnreadable(tx.query("SELECT path, cause, message FROM capture_unreadable_files WHERE table_id = ?"
          + " AND snapshot_id = ? ORDER BY path LIMIT ?", rs -> UnreadableFile.newBuilder().setPath(rs.getString(1))
          .setCause(cause(rs.getString(2))).setMessage(rs.getString(3)).build(), c.getTableId(), c.getSnapshotId(),
          Math.min(listed, MAX_LISTED)));
    }
    return c.build();
  }

  private static UnreadableFile.Cause cause(String name) {
    try {
      return UnreadableFile.Cause.valueOf(name);
    } catch (IllegalArgumentException e) {
      return UnreadableFile.Cause.CAUSE_UNSPECIFIED;
    }
  }
}
