package dev.conveyor.reconcile.control;

import dev.conveyor.api.TypeNames;
import dev.conveyor.api.catalog.ColumnStats;
import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.reconcile.ColumnStatsView;
import dev.conveyor.api.reconcile.FileStats;
import dev.conveyor.api.reconcile.TableStats;
import dev.conveyor.ledger.Tx;
import dev.conveyor.reconcile.planning.CaptureCompleteness;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * A captured snapshot's statistics as readers want them (GetTableStats, ListFileStats, {@code capture stats}):
 * per column its Iceberg/SQL type, row, null and NaN counts, typed min and max, NDV with the estimate's bounds,
 * widths and sizes. Read from the stored statistics records; nothing is recomputed.
 */
public final class StatsReader {
  /** Files per ListFileStats page: 0 means {@value #DEFAULT_FILES}; at most {@value #MAX_FILES}. */
  public static final int DEFAULT_FILES = 100;
  public static final int MAX_FILES = 1000;

  private StatsReader() {}

  /** The newest finalized snapshot of {@code table}. */
  public static Optional<String> newestSnapshot(Tx tx, String table) throws SQLException {
    return tx.queryOne("SELECT snapshot_id FROM capture_snapshots WHERE table_id = ? ORDER BY finalized_at DESC"
        + " LIMIT 1", rs -> rs.getString(1), table);
  }

  /**
   * The table's statistics at {@code snapshot}, only {@code columns} when some are named (a name the capture
   * does not have is refused); empty when the snapshot has no finalized statistics.
   */
  public static Optional<TableStats> table(Tx tx, String table, String snapshot, Set<String> columns)
      throws SQLException {
    Optional<byte[]> bytes = tx.queryOne("SELECT record FROM capture_stats WHERE table_id = ? AND snapshot_id = ?"
        + " AND target_key = 'table'", rs -> rs.getBytes(1), table, snapshot);
    if (bytes.isEmpty()) {
      return Optional.empty();
    }
    TargetStatsRecord rec = parse(bytes.get());
    Set<String> known = new LinkedHashSet<>();
    rec.getColumnsList().forEach(c -> known.add(c.getColumn()));
    for (String c : columns) {
      if (!known.contains(c)) {
        throw new IllegalArgumentException("columns: '" + c + "' is not a captured column of '" + table
            + "' (captured: " + String.join(", ", known) + ")");
      }
    }
    TableStats.Builder out = TableStats.newBuilder().setTableId(table).setSnapshotId(snapshot)
        .setRowCount(rec.getRowCount()).setFileCount(rec.getFileCount()).setSizeBytes(rec.getSizeBytes());
    CaptureCompleteness.ofSnapshot(tx, table, snapshot, 0).ifPresent(out::setCompleteness);
    out.addAllColumns(views(rec, columns));
    return Optional.of(out.build());
  }

  /** Up to {@code limit} files of the snapshot after {@code afterPath} (null: from the first), in path order. */
  public static List<FileStats> files(Tx tx, String table, String snapshot, Set<String> columns, String afterPath,
      int limit) throws SQLException {
    List<FileStats> out = new ArrayList<>();
    for (byte[] bytes : tx.query("SELECT record FROM capture_stats WHERE table_id = ? AND snapshot_id = ? AND"
        + " target_key LIKE 'file:%' AND target_key > ? ORDER BY target_key LIMIT ?", rs -> rs.getBytes(1), table,
        snapshot, afterPath == null ? "file:" : "file:" + afterPath, limit)) {
      TargetStatsRecord f = parse(bytes);
      out.add(FileStats.newBuilder().setPath(f.getTarget().getFile().getPath()).setRowCount(f.getRowCount())
          .setSizeBytes(f.getSizeBytes()).addAllColumns(views(f, columns)).build());
    }
    return out;
  }

  /** The snapshot's files with statistics. */
  public static long fileCount(Tx tx, String table, String snapshot) throws SQLException {
    return tx.queryLong("SELECT COUNT(*) FROM capture_stats WHERE table_id = ? AND snapshot_id = ? AND"
        + " target_key LIKE 'file:%'", table, snapshot);
  }

  private static List<ColumnStatsView> views(TargetStatsRecord rec, Set<String> only) {
    List<ColumnStatsView> out = new ArrayList<>();
    for (ColumnStats c : rec.getColumnsList()) {
      if (only.isEmpty() || only.contains(c.getColumn())) {
        out.add(view(c, rec.getRowCount()));
      }
    }
    return out;
  }

  static ColumnStatsView view(ColumnStats c, long rows) {
    ColumnStatsView.Builder v = ColumnStatsView.newBuilder().setColumn(c.getColumn())
        .setType(TypeNames.of(c.getPhysicalType(), c.getLogicalType())).setRowCount(rows)
        .setNullCount(c.getNullCount()).setAvgWidth(c.getAvgWidth()).setCompressedSize(c.getCompressedSize())
        .setUncompressedSize(c.getUncompressedSize());
    if (c.hasNanCount()) {
      v.setNanCount(c.getNanCount());
    }
    if (c.hasMin()) {
      v.setMin(c.getMin());
    }
    if (c.hasMax()) {
      v.setMax(c.getMax());
    }
    if (c.hasNdv()) {
      v.setNdv(Math.round(c.getNdv().getEstimate())).setNdvLower((long) Math.floor(c.getNdv().getLowerBound()))
          .setNdvUpper((long) Math.ceil(c.getNdv().getUpperBound()));
    }
    return v.build();
  }

  private static TargetStatsRecord parse(byte[] bytes) {
    try {
      return TargetStatsRecord.parseFrom(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException("a stored statistics record is unreadable: " + e.getMessage(), e);
    }
  }
}
