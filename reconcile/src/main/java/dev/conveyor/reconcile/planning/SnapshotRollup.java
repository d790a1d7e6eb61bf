package dev.conveyor.reconcile.planning;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.api.catalog.ColumnStats;
import dev.conveyor.api.catalog.ColumnTarget;
import dev.conveyor.api.catalog.NdvSketch;
import dev.conveyor.api.catalog.StatValue;
import dev.conveyor.api.catalog.StatsTarget;
import dev.conveyor.api.catalog.TableTarget;
import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.ledger.Tx;
import java.math.BigDecimal;
import java.sql.SQLException;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Rolls a snapshot's file statistics up into one table record and one record per column (sums,
 * min of mins, max of maxes), stores them, and records the snapshot as finalized with its
 * completeness: files planned, files captured, and the unreadable files (kept per file with their
 * cause by the file groups). A snapshot with unreadable files is partial and its roll-ups cover only
 * the captured files (file_count &lt; files_planned says so). A snapshot of which no file could be read
 * is not finalized: the finalizer fails, naming the files and causes. Finalizing the same snapshot
 * again (a later capture) replaces its roll-ups and completeness.
 */
final class SnapshotRollup {
  /** Unreadable files a failure message names before it says "and N more". */
  static final int NAMED_IN_MESSAGE = 10;
  /** File records read per query while rolling up. */
  static final int ROLLUP_PAGE = 1_000;

  private SnapshotRollup() {}

  record Finalized(long planned, long captured, long unreadable, long rows) {}

  /** {@code planned}: the files the snapshot planned; 0 when the plan did not say (older plans). */
  static Finalized finalizeSnapshot(Tx tx, String tableId, String snapshotId, String jobId, long planned)
      throws SQLException {
    long storedFiles = tx.queryLong("SELECT COUNT(*) FROM capture_stats WHERE table_id = ? AND snapshot_id = ?"
        + " AND target_key LIKE 'file:%'", tableId, snapshotId);
    long unreadable = tx.queryLong("SELECT COUNT(*) FROM capture_unreadable_files WHERE table_id = ? AND snapshot_id = ?",
        tableId, snapshotId);
    long filesPlanned = planned > 0 ? planned : storedFiles + unreadable;
    long captured = Math.max(0, filesPlanned - unreadable);
    if (filesPlanned > 0 && captured == 0) {
      throw new IllegalArgumentException("no file of snapshot " + snapshotId + " of table " + tableId
          + " could be read; nothing was finalized: " + unreadableSummary(tx, tableId, snapshotId, unreadable));
    }
    long files = 0;
    long rows = 0;
    long bytes = 0;
    Map<String, ColumnStats> columns = new LinkedHashMap<>();
    // a page of file records at a time (keyset on target_key): a snapshot of a million files is never in memory
    String after = "file:";
    while (true) {
      List<Object[]> page = tx.query("SELECT target_key, record FROM capture_stats WHERE table_id = ? AND"
          + " snapshot_id = ? AND target_key LIKE 'file:%' AND target_key > ? ORDER BY target_key LIMIT ?",
          rs -> new Object[] {rs.getString(1), rs.getBytes(2)}, tableId, snapshotId, after, ROLLUP_PAGE);
      for (Object[] row : page) {
        TargetStatsRecord file = parse((byte[]) row[1]);
        files++;
        rows += file.getRowCount();
        bytes += file.getSizeBytes();
        for (ColumnStats c : file.getColumnsList()) {
          columns.merge(c.getColumn(), c, SnapshotRollup::merge);
        }
      }
      if (page.size() < ROLLUP_PAGE) {
        break;
      }
      after = (String) page.get(page.size() - 1)[0];
    }
    TargetStatsRecord table = TargetStatsRecord.newBuilder().setTableId(tableId).setSnapshotId(snapshotId)
        .setTarget(StatsTarget.newBuilder().setTable(TableTarget.getDefaultInstance())).setFileCount(files)
        .setFilesPlanned(filesPlanned).setRowCount(rows).setSizeBytes(bytes).addAllColumns(columns.values()).build();
    upsert(tx, table, "table", jobId);
    for (ColumnStats c : columns.values()) {
      upsert(tx, TargetStatsRecord.newBuilder().setTableId(tableId).setSnapshotId(snapshotId)
          .setTarget(StatsTarget.newBuilder().setColumn(ColumnTarget.newBuilder().setColumn(c.getColumn())))
          .setFileCount(files).setFilesPlanned(filesPlanned).setRowCount(rows).setColumn(c).build(),
          "column:" + c.getColumn(), jobId);
    }
    tx.update("INSERT INTO capture_snapshots (table_id, snapshot_id, files, rows_total, job_id, finalized_at,"
        + " files_planned, files_unreadable) VALUES (?, ?, ?, ?, ?, ?, ?, ?) ON CONFLICT (table_id, snapshot_id)"
        + " DO UPDATE SET files = excluded.files, rows_total = excluded.rows_total, job_id = excluded.job_id,"
        + " finalized_at = excluded.finalized_at, files_planned = excluded.files_planned,"
        + " files_unreadable = excluded.files_unreadable",
        tableId, snapshotId, captured, rows, jobId, tx.nowMillis(), filesPlanned, unreadable);
    return new Finalized(filesPlanned, captured, unreadable, rows);
  }

  /** The columns of a finalized snapshot's table record (empty before it is finalized). */
  static List<ColumnStats> tableColumns(Tx tx, String tableId, String snapshotId) throws SQLException {
    return tx.queryOne("SELECT record FROM capture_stats WHERE table_id = ? AND snapshot_id = ? AND target_key = ?",
        rs -> rs.getBytes(1), tableId, snapshotId, "table").map(b -> parse(b).getColumnsList()).orElse(List.of());
  }

  /** "a.parquet (TRUNCATED: …), b.parquet (NOT_PARQUET: …) and 3 more". */
  static String unreadableSummary(Tx tx, String tableId, String snapshotId, long total) throws SQLException {
    List<String> named = tx.query("SELECT path, cause, message FROM capture_unreadable_files WHERE table_id = ?"
        + " AND snapshot_id = ? ORDER BY path LIMIT ?", rs -> rs.getString(1) + " (" + rs.getString(2) + ": "
        + rs.getString(3) + ")", tableId, snapshotId, NAMED_IN_MESSAGE);
    return String.join(", ", named) + (total > named.size() ? " and " + (total - named.size()) + " more" : "");
  }

  private static void upsert(Tx tx, TargetStatsRecord rec, String key, String jobId) throws SQLException {
    tx.update("INSERT INTO capture_stats (table_id, snapshot_id, target_key, record, job_id, created_at)"
        + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (table_id, snapshot_id, target_key) DO UPDATE SET"
        + " record = excluded.record, job_id = excluded.job_id, created_at = excluded.created_at",
        rec.getTableId(), rec.getSnapshotId(), key, rec.toByteArray(), jobId, tx.nowMillis());
  }

  private static TargetStatsRecord parse(byte[] b) {
    try {
      return TargetStatsRecord.parseFrom(b);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("a stored statistics record is unreadable", e);
    }
  }

  static ColumnStats merge(ColumnStats a, ColumnStats b) {
    ColumnStats.Builder m = a.toBuilder().setValueCount(a.getValueCount() + b.getValueCount())
        .setNullCount(a.getNullCount() + b.getNullCount())
        .setCompressedSize(a.getCompressedSize() + b.getCompressedSize())
        .setUncompressedSize(a.getUncompressedSize() + b.getUncompressedSize());
    long nonNullA = a.getValueCount() - a.getNullCount();
    long nonNullB = b.getValueCount() - b.getNullCount();
    if (nonNullA + nonNullB > 0) {
      m.setAvgWidth((a.getAvgWidth() * nonNullA + b.getAvgWidth() * nonNullB) / (nonNullA + nonNullB));
    }
    if (a.hasNanCount() || b.hasNanCount()) {
      m.setNanCount(a.getNanCount() + b.getNanCount());
    }
    if (NdvUnion.compatible(a.getNdv(), b.getNdv())) {
      m.setNdv(union(a.getNdv(), b.getNdv()));
    } else if (a.hasNdv() || b.hasNdv()) {
      m.clearNdv(); // one side unknown, or hashed another way: a union of either would understate the NDV
    }
    if (a.hasMin() && b.hasMin()) {
      m.setMin(compare(a.getMin(), b.getMin()) <= 0 ? a.getMin() : b.getMin());
    } else if (b.hasMin()) {
      m.setMin(b.getMin());
    }
    if (a.hasMax() && b.hasMax()) {
      m.setMax(compare(a.getMax(), b.getMax()) >= 0 ? a.getMax() : b.getMax());
    } else if (b.hasMax()) {
      m.setMax(b.getMax());
    }
    return m.build();
  }

  static NdvSketch union(NdvSketch a, NdvSketch b) {
    return NdvUnion.union(a, b);
  }

  /** Orders two values of one column the way Parquet orders them. */
  static int compare(StatValue x, StatValue y) {
    if (x.getLogicalType().startsWith("DECIMAL")) {
      return new BigDecimal(x.getRendered()).compareTo(new BigDecimal(y.getRendered()));
    }
    return switch (x.getValueCase()) {
      case INT_VALUE -> Long.compare(x.getIntValue(), y.getIntValue());
      case DOUBLE_VALUE -> Double.compare(x.getDoubleValue(), y.getDoubleValue());
      case BOOL_VALUE -> Boolean.compare(x.getBoolValue(), y.getBoolValue());
      case STRING_VALUE -> Arrays.compareUnsigned(x.getStringValueBytes().toByteArray(),
          y.getStringValueBytes().toByteArray());
      case BINARY_VALUE -> Arrays.compareUnsigned(x.getBinaryValue().toByteArray(), y.getBinaryValue().toByteArray());
      default -> 0;
    };
  }
}
