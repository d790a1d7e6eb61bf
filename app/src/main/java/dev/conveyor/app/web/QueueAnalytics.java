package dev.conveyor.app.web;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;

/**
 * One queue over the last day (ledger time): requests landed and failed, time in queue (p50/p90 of landed
 * requests, land call to LANDED), builds started per landed change, failures by kind, and landed per hour.
 * Bounded: at most {@value #MAX_ROWS} requests of the window are read.
 */
final class QueueAnalytics {
  static final long WINDOW_MS = 24L * 3_600_000;
  static final int MAX_ROWS = 10_000;
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private QueueAnalytics() {}

  static ObjectNode read(Tx tx, String queue) throws SQLException {
    long now = tx.nowMillis();
    long since = now - WINDOW_MS;
    ObjectNode a = JSON.objectNode();
    a.put("windowHours", 24);
    List<long[]> landed = tx.query("SELECT created_at, updated_at FROM sq_requests WHERE queue = ? AND state = 'LANDED'"
        + " AND updated_at > ? ORDER BY updated_at DESC LIMIT ?", rs -> new long[] {rs.getLong(1), rs.getLong(2)},
        queue, since, MAX_ROWS);
    List<String> failed = tx.query("SELECT reason FROM sq_requests WHERE queue = ? AND state = 'ERROR'"
        + " AND updated_at > ? ORDER BY updated_at DESC LIMIT ?", rs -> rs.getString(1), queue, since, MAX_ROWS);
    long builds = tx.queryLong("SELECT COUNT(*) FROM sq_paths p JOIN sq_batches b ON b.batch_id = p.batch_id"
        + " WHERE b.queue = ? AND p.created_at > ?", queue, since);
    a.put("landed", landed.size());
    a.put("failed", failed.size());
    a.put("builds", builds);
    if (landed.isEmpty()) {
      a.putNull("buildsPerLanded");
    } else {
      a.put("buildsPerLanded", Math.round(100.0 * builds / landed.size()) / 100.0);
    }
    List<Long> waits = new ArrayList<>();
    ArrayNode perHour = a.putArray("landedPerHour"); // oldest hour first, the current hour last
    long[] hours = new long[24];
    for (long[] r : landed) {
      waits.add(r[1] - r[0]);
      int ago = (int) Math.min(23, Math.max(0, (now - r[1]) / 3_600_000));
      hours[23 - ago]++;
    }
    for (long h : hours) {
      perHour.add(h);
    }
    waits.sort(null);
    ObjectNode t = a.putObject("timeInQueueMs");
    if (waits.isEmpty()) {
      t.putNull("p50");
      t.putNull("p90");
    } else {
      t.put("p50", waits.get((int) Math.floor(0.5 * (waits.size() - 1))));
      t.put("p90", waits.get((int) Math.floor(0.9 * (waits.size() - 1))));
    }
    ObjectNode kinds = a.putObject("failures");
    for (String reason : failed) {
      String k = kind(reason);
      kinds.put(k, kinds.path(k).asLong() + 1);
    }
    return a;
  }

  /** What failed, from the reason's words: conflict, ci, timeout, stale, invalid, no-verdict, build, other. */
  static String kind(String reason) {
    String r = reason == null ? "" : reason.toLowerCase(Locale.ROOT);
    if (r.contains("conflict") || r.contains("does not apply")) {
      return "conflict";
    }
    if (r.contains("check '") || r.contains("waiting for ci")) {
      return "ci";
    }
    if (r.contains("timed out")) {
      return "timeout";
    }
    if (r.startsWith("stale")) {
      return "stale";
    }
    if (r.contains("invalid change") || r.contains("affected targets")) {
      return "invalid";
    }
    if (r.contains("no verdict") || r.contains("no build verdict")) {
      return "no-verdict";
    }
    if (r.contains("build")) {
      return "build";
    }
    return "other";
  }
}
