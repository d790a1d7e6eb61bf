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
    if (latest && (one || several)) { // named snapshots and the latest N would silently drop one of them
      throw new IllegalArgumentException("latest_snapshots is exclusive with snapshot_id and snapshot_ids: give"
          + " --latest, or --snapshot/--snapshots");
    }
    if (connector.getKind() != ConnectorSpec.Kind.ICEBERG || !(one || several)) {
      return;
    }
    Table table = load(connector);
    List<String> ids = new ArrayList<>(req.getSnapshotIdsList());
    if (one) {
      ids.add(req.getSnapshotId());
    }
    List<String> unknown = new ArrayList<>();
    for (String id : ids) {
      long parsed;
      try {
        parsed = Long.parseLong(id);
      } catch (NumberFormatException e) {
        parsed = 0;
      }
      if (!Long.toString(parsed).equals(id)) { // the planner compares ids as written: only canonical numbers
        throw new IllegalArgumentException((several ? "snapshot_ids" : "snapshot_id") + ": '" + id
            + "' is not an Iceberg snapshot id (a number, as Iceberg writes it)");
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
      throw new IllegalArgumentException((several ? "snapshot_ids" : "snapshot_id") + ": " + String.join(", ", unknown)
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
    } catch (org.apache.iceberg.exceptions.NotAuthorizedException | org.apache.iceberg.exceptions.ForbiddenException
        | org.apache.iceberg.exceptions.NoSuchNamespaceException | org.apache.iceberg.exceptions.BadRequestException
        | org.apache.iceberg.exceptions.ValidationException e) {
      // the catalog answered, and the answer is no: retrying the same registration cannot help
      throw new IllegalArgumentException("connector: the Iceberg table at " + connector.getLocation()
          + " cannot be read: " + e.getMessage());
    } catch (RuntimeException e) {
      throw ErrorStatus.of(Code.UNAVAILABLE, "CATALOG_UNAVAILABLE", "the Iceberg table at "
          + connector.getLocation() + " could not be read (" + e.getClass().getSimpleName() + ": " + e.getMessage()
          + "); retry");
    }
  }
}
