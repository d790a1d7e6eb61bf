package dev.conveyor.app.web;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.api.reconcile.UnreadableFile;
import dev.conveyor.ledger.Tx;
import dev.conveyor.reconcile.planning.CaptureCompleteness;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Capture job trees for the status page: the newest capture roots (one per {@code capture start}),
 * each with its planners, file groups and finalizer, progress and lease holders. A tree larger than
 * {@code maxNodes} is cut, and says how many nodes it left out.
 */
final class CaptureStatus {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final String PLAN_TABLE_LANE = "plan-table:";
  private static final String ROOTS = " FROM jobs WHERE parent_id IS NULL"
      + " AND kind IN ('PLAN_CONNECTOR', 'PLAN_TABLE', 'PLAN_SNAPSHOT')";
  private final StatusLimits limits;

  CaptureStatus(StatusLimits limits) {
    this.limits = limits;
  }

  ArrayNode read(Tx tx, ObjectNode omitted) throws SQLException {
    ArrayNode out = JSON.arrayNode();
    List<ObjectNode> rootNodes = tx.query("SELECT " + COLUMNS + ROOTS + " ORDER BY created_at DESC, id DESC LIMIT ?",
        this::node, limits.captureRoots());
    omitted.put("captures", tx.queryLong("SELECT COUNT(*)" + ROOTS) - rootNodes.size());
    for (ObjectNode root : rootNodes) {
      String rootId = root.get("id").asText();
      String lane = root.path("laneKey").asText("");
      root.put("table", lane.startsWith(PLAN_TABLE_LANE) ? lane.substring(PLAN_TABLE_LANE.length()) : lane);
      Map<String, ObjectNode> byId = new LinkedHashMap<>();
      byId.put(rootId, root);
      List<ObjectNode> descendants = tx.query("SELECT " + COLUMNS + ", parent_id FROM jobs WHERE root_id = ?"
          + " AND id <> ? ORDER BY created_at, child_ordinal, id LIMIT ?", rs -> {
            ObjectNode n = node(rs);
            n.put("parent", rs.getString(16));
            return n;
          }, rootId, rootId, limits.nodesPerCapture());
      long total = tx.queryLong("SELECT COUNT(*) FROM jobs WHERE root_id = ?", rootId);
      for (ObjectNode n : descendants) {
        byId.put(n.get("id").asText(), n);
      }
      for (ObjectNode n : descendants) {
        ObjectNode parent = byId.get(n.get("parent").asText());
        if (parent != null) {
          ((ArrayNode) parent.get("children")).add(n);
        }
        n.remove("parent");
      }
      root.put("nodes", total);
      root.put("omitted", Math.max(0, total - 1 - descendants.size()));
      ObjectNode states = root.putObject("states");
      for (Object[] r : tx.query("SELECT state, COUNT(*) FROM jobs WHERE root_id = ? GROUP BY state ORDER BY state",
          rs -> new Object[] {rs.getString(1), rs.getLong(2)}, rootId)) {
        states.put((String) r[0], (Long) r[1]);
      }
      root.set("snapshots", snapshots(tx, rootId));
      out.add(root);
    }
    return out;
  }

  /**
   * One page of capture roots, newest first, for the captures page: filtered by table and state, after the cursor
   * {@code "createdAt:id"} of the previous page's last root. Each root has its table, state counts and
   * completeness, without its tree.
   */
  ArrayNode rootsPage(Tx tx, String table, String state, String before, int limit) throws SQLException {
    StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + ROOTS);
    List<Object> args = new java.util.ArrayList<>();
    if (table != null && !table.isEmpty()) {
      sql.append(" AND lane_key = ?");
      args.add(PLAN_TABLE_LANE + table);
    }
    if (state != null && !state.isEmpty()) {
      sql.append(" AND state = ?");
      args.add(state);
    }
    if (before != null && !before.isEmpty()) {
      int colon = before.indexOf(':');
      long at;
      try {
        at = Long.parseLong(before.substring(0, Math.max(colon, 0)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("before: not a cursor of this list");
      }
      sql.append(" AND (created_at < ? OR (created_at = ? AND id < ?))");
      args.add(at);
      args.add(at);
      args.add(before.substring(colon + 1));
    }
    sql.append(" ORDER BY created_at DESC, id DESC LIMIT ?");
    args.add(limit);
    ArrayNode out = JSON.arrayNode();
    for (ObjectNode root : tx.query(sql.toString(), this::node, args.toArray())) {
      String lane = root.path("laneKey").asText("");
      root.put("table", lane.startsWith(PLAN_TABLE_LANE) ? lane.substring(PLAN_TABLE_LANE.length()) : lane);
      root.put("cursor", root.get("createdAt").asLong() + ":" + root.get("id").asText());
      ObjectNode states = root.putObject("states");
      for (Object[] r : tx.query("SELECT state, COUNT(*) FROM jobs WHERE root_id = ? GROUP BY state ORDER BY state",
          rs -> new Object[] {rs.getString(1), rs.getLong(2)}, root.get("id").asText())) {
        states.put((String) r[0], (Long) r[1]);
      }
      root.set("snapshots", snapshots(tx, root.get("id").asText()));
      out.add(root);
    }
    return out;
  }

  /** The completeness of each snapshot this capture finalized: files planned and captured, unreadable files. */
  private ArrayNode snapshots(Tx tx, String rootId) throws SQLException {
    ArrayNode out = JSON.arrayNode();
    List<String> finalizers = tx.query("SELECT id FROM jobs WHERE root_id = ? AND kind = 'FINALIZE_SNAPSHOT'"
        + " ORDER BY created_at, id LIMIT ?", rs -> rs.getString(1), rootId, limits.captureRoots());
    for (var c : CaptureCompleteness.ofFinalizers(tx, finalizers, limits.unreadablePerSnapshot()).values()) {
      ObjectNode s = out.addObject();
      s.put("table", c.getTableId());
      s.put("snapshot", c.getSnapshotId());
      s.put("planned", c.getFilesPlanned());
      s.put("captured", c.getFilesCaptured());
      s.put("partial", c.getPartial());
      s.put("unreadableTotal", c.getUnreadableTotal());
      ArrayNode files = s.putArray("unreadable");
      for (UnreadableFile u : c.getUnreadableList()) {
        ObjectNode f = files.addObject();
        f.put("path", limits.cut(u.getPath()));
        f.put("cause", u.getCause().name());
        f.put("message", limits.cut(u.getMessage()));
      }
    }
    return out;
  }

  private static final String COLUMNS = "id, kind, state, attempts, max_attempts, progress_done, progress_total,"
      + " progress_failed, progress_message, lease_owner, last_error, created_at, started_at, finished_at, lane_key";

  private ObjectNode node(java.sql.ResultSet rs) throws SQLException {
    ObjectNode n = JSON.objectNode();
    n.put("id", rs.getString(1));
    n.put("kind", rs.getString(2));
    n.put("state", rs.getString(3));
    n.put("attempts", rs.getInt(4));
    n.put("maxAttempts", rs.getInt(5));
    ObjectNode progress = n.putObject("progress");
    progress.put("done", rs.getLong(6));
    progress.put("total", rs.getLong(7));
    progress.put("failed", rs.getLong(8));
    progress.put("message", limits.cut(rs.getString(9)));
    n.put("worker", rs.getString(10));
    n.put("error", limits.cut(rs.getString(11)));
    n.put("createdAt", rs.getLong(12));
    long started = rs.getLong(13);
    n.put("startedAt", rs.wasNull() ? null : started);
    long finished = rs.getLong(14);
    n.put("finishedAt", rs.wasNull() ? null : finished);
    n.put("laneKey", rs.getString(15));
    n.putArray("children");
    return n;
  }
}
