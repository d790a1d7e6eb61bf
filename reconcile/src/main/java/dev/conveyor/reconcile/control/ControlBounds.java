package dev.conveyor.reconcile.control;

import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.StartCaptureRequest;

/** The bounds of the control plane's composite fields: connectors and capture requests. */
final class ControlBounds {
  /** StartCapture: at most this many latest snapshots at once. */
  static final int MAX_LATEST_SNAPSHOTS = 1000;

  private ControlBounds() {}

  static void connector(ConnectorSpec c) {
    Bounds.required("connector.location", c.getLocation(), Bounds.MAX_URI_BYTES);
    Bounds.map("connector.properties", c.getPropertiesMap(), Bounds.MAX_PROPERTIES, Bounds.MAX_URI_BYTES);
  }

  static void startCapture(StartCaptureRequest req) {
    Bounds.id("table_id", req.getTableId());
    Bounds.optional("snapshot_id", req.getSnapshotId(), Bounds.MAX_SNAPSHOT_ID_BYTES);
    Bounds.entries("snapshot_ids", req.getSnapshotIdsList(), Bounds.MAX_LIST_ITEMS, Bounds.MAX_SNAPSHOT_ID_BYTES);
    Bounds.range("latest_snapshots", req.getLatestSnapshots(), 0, MAX_LATEST_SNAPSHOTS);
    policy(req.getPolicy());
  }

  static void policy(dev.conveyor.api.reconcile.CapturePolicy policy) {
    var columns = policy.getColumns();
    switch (columns.getSelectionCase()) {
      case FIRST_N -> Bounds.range("policy.columns.first_n", columns.getFirstN(), 0, Bounds.MAX_COLUMNS);
      case EXPLICIT -> Bounds.ids("policy.columns.explicit.names", columns.getExplicit().getNamesList(),
          Bounds.MAX_COLUMNS);
      default -> { }
    }
  }
}
