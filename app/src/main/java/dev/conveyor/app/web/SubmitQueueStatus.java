package dev.conveyor.app.web;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The merge queue as the status page shows it: per queue, the newest requests with their timelines,
 * and the live (and most recent) batches with members, dependencies and speculation paths with
 * their builds. Read straight from SubmitQueue's tables in one transaction.
 */
final class SubmitQueueStatus {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private final StatusLimits limits;

  SubmitQueueStatus(StatusLimits limits) {
    this.limits = limits;
  }

  /** Configured queues first, then others with requests, at most {@code limits.queues()} of them. */
  ArrayNode read(Tx tx, List<String> configuredQueues, ObjectNode omitted) throws SQLException {
    Map<String, ObjectNode> queues = new LinkedHashMap<>();
    java.util.Set<String> all = new java.util.LinkedHashSet<>(configuredQueues);
    all.addAll(tx.query("SELECT DISTINCT queue FROM sq_requests ORDER BY queue", rs -> rs.getString(1)));
    all.stream().limit(limits.queues()).forEach(q -> queue(queues, q));
    omitted.put("queues", all.size() - queues.size());
    for (var e : queues.entrySet()) {
      fill(tx, e.getKey(), e.getValue());
    }
    ArrayNode out = JSON.arrayNode();
    queues.values().forEach(out::add);
    return out;
  }

  private static ObjectNode queue(Map<String, ObjectNode> queues, String name) {
    return queues.computeIfAbsent(name, n -> {
      ObjectNode q = JSON.objectNode();
      q.put("name", n);
      return q;
    });
  }

  private void fill(Tx tx, String queue, ObjectNode q) throws SQLException {
    var operating = dev.conveyor.submitqueue.control.QueueStates.get(tx, queue);
    ObjectNode control = q.putObject("control");
    control.put("state", operating.state().name().replace("QUEUE_", ""));
    control.put("reason", limits.cut(operating.reason()));
    control.put("changedBy", limits.cut(operating.changedBy()));
    control.put("changedAt", operating.changedAtMillis());
    ObjectNode counts = q.putObject("counts");
    long total = 0;
    for (Object[] r : tx.query("SELECT state, COUNT(*) FROM sq_requests WHERE queue = ? GROUP BY state ORDER BY state",
        rs -> new Object[] {rs.getString(1), rs.getLong(2)}, queue)) {
      counts.put((String) r[0], (Long) r[1]);
      total += (Long) r[1];
    }
    ArrayNode requests = q.putArray("requests");
    Map<String, ObjectNode> byId = new LinkedHashMap<>();
    for (ObjectNode r : tx.query("SELECT request_id, n, state, reason, change_key, batch_id, created_at, updated_at, priority"
        + " FROM sq_requests WHERE queue = ? ORDER BY n DESC LIMIT ?", rs -> {
          ObjectNode r1 = JSON.objectNode();
          r1.put("id", rs.getString(1));
          r1.put("n", rs.getLong(2));
          r1.put("state", rs.getString(3));
          r1.put("reason", limits.cut(rs.getString(4)));
          ArrayNode changes = r1.putArray("changes");
          String[] uris = rs.getString(5).split("\n");
          for (int i = 0; i < Math.min(uris.length, limits.changesPerRequest()); i++) {
            changes.add(limits.cut(uris[i]));
          }
          r1.put("omittedChanges", Math.max(0, uris.length - limits.changesPerRequest()));
          r1.put("batch", rs.getString(6));
          r1.put("createdAt", rs.getLong(7));
          r1.put("updatedAt", rs.getLong(8));
          r1.put("priority", rs.getInt(9));
          r1.putArray("timeline");
          return r1;
        }, queue, limits.requestsPerQueue())) {
      requests.add(r);
      byId.put(r.get("id").asText(), r);
    }
    q.put("omittedRequests", total - requests.size());
    if (!byId.isEmpty()) {
      long oldest = requests.get(requests.size() - 1).get("n").asLong();
      for (Object[] e : tx.query("SELECT l.request_id, l.state, l.reason, l.at FROM sq_request_log l"
          + " JOIN sq_requests r ON r.request_id = l.request_id WHERE r.queue = ? AND r.n >= ?"
          + " ORDER BY l.request_id, l.seq",
          rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4)}, queue, oldest)) {
        ObjectNode r = byId.get((String) e[0]);
        if (r != null) {
          ArrayNode timeline = (ArrayNode) r.get("timeline");
          ObjectNode step = timeline.addObject();
          step.put("state", (String) e[1]);
          step.put("reason", limits.cut((String) e[2]));
          step.put("at", (Long) e[3]);
          if (timeline.size() > limits.stepsPerRequest()) { // keep the newest steps
            timeline.remove(0);
            r.put("omittedSteps", r.path("omittedSteps").asLong() + 1);
          }
        }
      }
    }
    if (!byId.isEmpty()) {
      buildAttempts(tx, byId);
    }
    q.set("analytics", QueueAnalytics.read(tx, queue));
    ObjectNode health = q.putObject("mainHealth");
    var latest = dev.conveyor.submitqueue.health.MainChecks.latest(tx, queue, false);
    health.put("state", latest.map(c -> c.green() ? "GREEN" : "RED").orElse("UNVERIFIED"));
    latest.ifPresent(c -> {
      health.put("sha", c.sha());
      health.put("batch", c.batchId());
      health.put("reason", limits.cut(c.reason()));
      health.put("checkedAt", c.checkedAt());
    });
    dev.conveyor.submitqueue.health.MainChecks.latest(tx, queue, true).ifPresent(c -> health.put("lastGreen", c.sha()));
    q.set("batches", batches(tx, queue));
    q.put("omittedBatches", tx.queryLong("SELECT COUNT(*) FROM sq_batches WHERE queue = ?", queue)
        - q.get("batches").size());
  }

  /**
   * Each shown request's build attempts, oldest first: every build of every batch it was a member of (a
   * bisection's halves, a rebuild, a re-verification), with its outcome and its log's address; the newest
   * {@code pathsPerBatch} per request are kept.
   */
  private void buildAttempts(Tx tx, Map<String, ObjectNode> byId) throws SQLException {
    String in = " IN (" + String.join(",", java.util.Collections.nCopies(byId.size(), "?")) + ")";
    // a build's verdict is read from its effect claim, the authority on whether (and how) it ran
    java.util.List<Object> args = new java.util.ArrayList<>();
    args.add(dev.conveyor.submitqueue.request.RequestEffects.BUILD_SCOPE);
    args.addAll(byId.keySet());
    for (Object[] a : tx.query("SELECT m.request_id, p.job_id, p.batch_id, p.state, p.reason, j.started_at,"
        + " j.finished_at, c.state, c.result FROM sq_batch_members m JOIN sq_paths p ON p.batch_id = m.batch_id"
        + " LEFT JOIN jobs j ON j.id = p.job_id LEFT JOIN effect_claims c ON c.scope = ? AND c.effect_key = p.job_id"
        + " WHERE p.job_id IS NOT NULL AND m.request_id" + in
        + " ORDER BY m.request_id, p.created_at, p.path_id", rs -> {
          long started = rs.getLong(6);
          Long startedAt = rs.wasNull() ? null : started;
          long finished = rs.getLong(7);
          Long finishedAt = rs.wasNull() ? null : finished;
          String state = rs.getString(4);
          String reason = rs.getString(5);
          var verdict = verdict(rs.getString(8), rs.getBytes(9));
          if (verdict != null) {
            state = verdict.getPassed() ? "PASSED" : "FAILED";
            reason = verdict.getReason();
          }
          return new Object[] {rs.getString(1), rs.getString(2), rs.getString(3), state, reason, startedAt,
              finishedAt, verdict != null};
        }, args.toArray())) {
      ObjectNode r = byId.get((String) a[0]);
      ArrayNode builds = r.has("builds") ? (ArrayNode) r.get("builds") : r.putArray("builds");
      ObjectNode b = builds.addObject();
      b.put("job", (String) a[1]);
      b.put("batch", (String) a[2]);
      b.put("state", (String) a[3]);
      b.put("reason", limits.cut((String) a[4]));
      b.put("startedAt", (Long) a[5]);
      b.put("finishedAt", (Long) a[6]);
      b.put("log", "/api/builds/" + a[1] + "/log"); // served to the page's viewers only
      b.put("verdictFromClaim", (Boolean) a[7]);
      if (builds.size() > limits.pathsPerBatch()) { // keep the newest attempts
        builds.remove(0);
        r.put("omittedBuilds", r.path("omittedBuilds").asLong() + 1);
      }
    }
  }

  private static dev.conveyor.api.submitqueue.BuildSignal verdict(String claimState, byte[] result) {
    if (!"COMPLETED".equals(claimState) || result == null) {
      return null;
    }
    try {
      return dev.conveyor.api.submitqueue.BuildSignal.parseFrom(result);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      return null;
    }
  }

  /** Live batches, and the most recent finished ones so a landed or failed batch stays visible a while. */
  private ArrayNode batches(Tx tx, String queue) throws SQLException {
    return batches(tx, "queue = ?", queue);
  }

  /** One batch for its page: members, what it waits for, its speculation paths and their builds; empty if none. */
  java.util.Optional<ObjectNode> batch(Tx tx, String batchId) throws SQLException {
    ArrayNode one = batches(tx, "batch_id = ?", batchId);
    if (one.isEmpty()) {
      return java.util.Optional.empty();
    }
    ObjectNode b = (ObjectNode) one.get(0);
    b.put("queue", tx.queryOne("SELECT queue FROM sq_batches WHERE batch_id = ?", rs -> rs.getString(1), batchId)
        .orElse(""));
    return java.util.Optional.of(b);
  }

  private ArrayNode batches(Tx tx, String where, String arg) throws SQLException {
    ArrayNode out = JSON.arrayNode();
    Map<String, ObjectNode> byId = new LinkedHashMap<>();
    for (ObjectNode b : tx.query("SELECT batch_id, state, reason, created_n, created_at, updated_at FROM sq_batches"
        + " WHERE " + where + " ORDER BY created_n DESC LIMIT ?", rs -> {
          ObjectNode b1 = JSON.objectNode();
          b1.put("id", rs.getString(1));
          b1.put("state", rs.getString(2));
          b1.put("reason", limits.cut(rs.getString(3)));
          b1.put("position", rs.getLong(4));
          b1.put("createdAt", rs.getLong(5));
          b1.put("updatedAt", rs.getLong(6));
          b1.putArray("members");
          b1.putArray("dependsOn");
          b1.putArray("paths");
          return b1;
        }, arg, limits.batchesPerQueue())) {
      out.add(b);
      byId.put(b.get("id").asText(), b);
    }
    if (byId.isEmpty()) {
      return out;
    }
    String in = " IN (" + String.join(",", java.util.Collections.nCopies(byId.size(), "?")) + ")";
    Object[] ids = byId.keySet().toArray();
    for (String[] m : tx.query("SELECT batch_id, request_id FROM sq_batch_members WHERE batch_id" + in
        + " ORDER BY batch_id, ord", rs -> new String[] {rs.getString(1), rs.getString(2)}, ids)) {
      ((ArrayNode) byId.get(m[0]).get("members")).add(m[1]);
    }
    for (String[] d : tx.query("SELECT batch_id, depends_on FROM sq_batch_deps WHERE batch_id" + in
        + " ORDER BY batch_id, depends_on", rs -> new String[] {rs.getString(1), rs.getString(2)}, ids)) {
      ((ArrayNode) byId.get(d[0]).get("dependsOn")).add(d[1]);
    }
    for (ObjectNode p : tx.query("SELECT p.path_id, p.batch_id, p.assumptions, p.state, p.job_id, p.reason,"
        + " j.state, j.started_at, j.finished_at, j.lease_owner FROM sq_paths p LEFT JOIN jobs j ON j.id = p.job_id"
        + " WHERE p.batch_id" + in + " ORDER BY p.batch_id, p.created_at, p.path_id", rs -> {
          ObjectNode p1 = JSON.objectNode();
          p1.put("id", rs.getString(1));
          p1.put("batch", rs.getString(2));
          ArrayNode assumptions = p1.putArray("assumptions");
          for (String a : rs.getString(3).split("\n")) {
            if (!a.isBlank()) {
              assumptions.add(a);
            }
          }
          p1.put("state", rs.getString(4));
          ObjectNode build = p1.putObject("build");
          build.put("job", rs.getString(5));
          if (rs.getString(5) != null) {
            build.put("log", "/api/builds/" + rs.getString(5) + "/log"); // served to the page's viewers only
          }
          build.put("reason", limits.cut(rs.getString(6)));
          build.put("state", rs.getString(7));
          long started = rs.getLong(8);
          build.put("startedAt", rs.wasNull() ? null : started);
          long finished = rs.getLong(9);
          build.put("finishedAt", rs.wasNull() ? null : finished);
          build.put("worker", rs.getString(10));
          return p1;
        }, ids)) {
      ObjectNode batch = byId.get(p.get("batch").asText());
      ArrayNode paths = (ArrayNode) batch.get("paths");
      if (paths.size() < limits.pathsPerBatch()) {
        paths.add(p);
      } else {
        batch.put("omittedPaths", batch.path("omittedPaths").asLong() + 1);
      }
    }
    return out;
  }
}
