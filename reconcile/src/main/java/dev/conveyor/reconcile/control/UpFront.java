package dev.conveyor.reconcile.control;

import com.google.rpc.Code;
import dev.conveyor.api.ErrorStatus;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.reconcile.iceberg.IcebergTables;
import java.util.ArrayList;
import java.util.List;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;

/**
 * What registration and {@code StartCapture} can check before anything is stored or planned, so a mistake is
 * refused in the caller's terminal rather than found later inside a planning job: an Iceberg connector must
 * name a table that loads; snapshot ids must be snapshots of it; exclusive options are refused together. A
 * catalog that cannot be reached is UNAVAILABLE (CATALOG_UNAVAILABLE: retry), never a refusal.
 */
final class UpFront {
  private UpFront() {}

  static void connector(ConnectorSpec connector) {
    if (connector.getKind() == ConnectorSpec.Kind.ICEBERG) {
      load(connector);
    }
  }

  static void startCapture(StartCaptureRequest req, ConnectorSpec connector) {
    boolean one = !req.getSnapshotId().isEmpty();
    boolean several = req.getSnapshotIdsCount() > 0;
    boolean latest = req.getLatestSnapshots() > 0;
    if ((one ? 1 : 0) + (several ? 1 : 0) + (latest ? 1 : 0) > 1) {
      throw new IllegalArgumentException("snapshot_id, snapshot_ids and latest_snapshots are exclusive: give one"
          + " (--snapshot, --snapshots or --latest)");
    }
    if (connector.getKind() != ConnectorSpec.Kind.ICEBERG || !(one || several)) {
      return;
    }
    Table table = load(connector);
    List<String> ids = one ? List.of(req.getSnapshotId()) : req.getSnapshotIdsList();
    List<String> unknown = new ArrayList<>();
    for (String id : ids) {
      long parsed;
      try {
        parsed = Long.parseLong(id.trim());
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException((one ? "snapshot_id" : "snapshot_ids") + ": '" + id
            + "' is not an Iceberg snapshot id (a number)");
      }
      if (table.snapshot(parsed) == null) {
        unknown.add(id);
      }
    }
    if (!unknown.isEmpty()) {
      List<String> known = new ArrayList<>();
      for (Snapshot s : table.snapshots()) {
        known.add(Long.toString(s.snapshotId()));
      }
      List<String> shown = known.size() > 10 ? known.subList(known.size() - 10, known.size()) : known;
      throw new IllegalArgumentException((one ? "snapshot_id" : "snapshot_ids") + ": " + String.join(", ", unknown)
          + (unknown.size() == 1 ? " is not a snapshot" : " are not snapshots") + " of table '" + req.getTableId()
          + "' (" + (known.isEmpty() ? "it has none" : (known.size() > 10 ? "its newest: " : "its snapshots: ")
          + String.join(", ", shown)) + ")");
    }
  }

  private static Table load(ConnectorSpec connector) {
    try {
      return IcebergTables.load(connector);
    } catch (IllegalArgumentException e) {
      throw e;
    } catch (RuntimeException e) {
      throw ErrorStatus.of(Code.UNAVAILABLE, "CATALOG_UNAVAILABLE", "the Iceberg table at "
          + connector.getLocation() + " could not be read (" + e.getClass().getSimpleName() + ": " + e.getMessage()
          + "); retry");
    }
  }
}
