package dev.conveyor.app.capture;

import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.app.cli.ErrorReporter.UserError;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.reconcile.iceberg.IcebergTables;
import java.util.Optional;

/**
 * Which snapshot {@code capture stats} shows when none is named, and the line that says so: an Iceberg table's
 * current snapshot when it is captured; otherwise the newest captured one, saying the current one is not
 * (yet). A directory's current listing is only known by capturing it, so its newest capture is shown.
 *
 * @param how {@code given}, {@code current} or {@code newest_captured} (the JSON's {@code snapshot_chosen})
 */
record SnapshotChoice(String snapshot, String how, String note) {
  static SnapshotChoice of(Ledger ledger, String table) {
    byte[] stored = ledger.read(tx -> tx.queryOne("SELECT connector FROM capture_tables WHERE table_id = ?",
        rs -> rs.getBytes(1), table)).orElseThrow(() -> new UserError("table '" + table
            + "' is not registered in this ledger", "'conveyor capture tables' lists the registered tables"));
    ConnectorSpec connector;
    try {
      connector = ConnectorSpec.parseFrom(stored);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException("the stored connector of table '" + table + "' is unreadable", e);
    }
    Optional<String> newest = ledger.read(tx -> tx.queryOne("SELECT snapshot_id FROM capture_snapshots"
        + " WHERE table_id = ? ORDER BY finalized_at DESC LIMIT 1", rs -> rs.getString(1), table));
    if (connector.getKind() != ConnectorSpec.Kind.ICEBERG) {
      String id = newest.orElseThrow(() -> notCaptured(table));
      return new SnapshotChoice(id, "newest_captured", "snapshot " + id + " (the newest capture of this directory;"
          + " 'conveyor capture start " + table + "' captures its current listing)");
    }
    String current;
    try {
      var snap = IcebergTables.load(connector).currentSnapshot();
      current = snap == null ? null : Long.toString(snap.snapshotId());
    } catch (RuntimeException e) { // a catalog this machine cannot reach: say so, show the newest capture
      String id = newest.orElseThrow(() -> notCaptured(table));
      return new SnapshotChoice(id, "newest_captured", "snapshot " + id + " (the newest capture; the table's current"
          + " snapshot could not be read here: " + e.getMessage() + ")");
    }
    if (current != null) {
      boolean captured = ledger.read(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_snapshots WHERE table_id = ?"
          + " AND snapshot_id = ?", table, current)) > 0;
      if (captured) {
        return new SnapshotChoice(current, "current", "snapshot " + current + " (the table's current snapshot)");
      }
    }
    String id = newest.orElseThrow(() -> notCaptured(table));
    return new SnapshotChoice(id, "newest_captured", "snapshot " + id + " (the newest capture; the table's current"
        + " snapshot " + (current == null ? "(none)" : current) + " is not captured: 'conveyor capture start " + table
        + "')");
  }

  private static UserError notCaptured(String table) {
    return new UserError("table '" + table + "' has no finalized capture",
        "run 'conveyor capture start " + table + "' and wait for it");
  }
}
