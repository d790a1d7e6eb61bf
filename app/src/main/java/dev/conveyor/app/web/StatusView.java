package dev.conveyor.app.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.ledger.Ledger;
import java.util.List;
import java.util.function.Supplier;

/**
 * One consistent picture of the node for the status page, read in a single ledger transaction and
 * shared by every viewer: a snapshot is reused for {@code maxAgeMs}, so ten open browsers cost the
 * ledger what one does. Its size is bounded by {@link StatusLimits}, whatever the ledger holds.
 */
public final class StatusView {
  private static final ObjectMapper MAPPER = new ObjectMapper();
  static final int AUDIT_SHOWN = 20;
  private final Ledger ledger;
  private final String node;
  private final Supplier<List<String>> configuredQueues;
  private final SubmitQueueStatus submitQueue;
  private final CaptureStatus capture;
  private final TopicStatus topics;
  private final long maxAgeMs;
  private final LagHistory lagHistory = new LagHistory();
  private String cached;
  private String cachedContent;
  private long cachedAt;

  public StatusView(Ledger ledger, String node, Supplier<List<String>> configuredQueues, long maxAgeMs) {
    this(ledger, node, configuredQueues, maxAgeMs, StatusLimits.DEFAULT);
  }

  public StatusView(Ledger ledger, String node, Supplier<List<String>> configuredQueues, long maxAgeMs,
      StatusLimits limits) {
    this.submitQueue = new SubmitQueueStatus(limits);
    this.capture = new CaptureStatus(limits);
    this.topics = new TopicStatus(limits);
    this.ledger = ledger;
    this.node = node;
    this.configuredQueues = configuredQueues;
    this.maxAgeMs = maxAgeMs;
  }

  /**
   * The snapshot as JSON text. It is the same string until something changes ({@code changedAt} is
   * when it last did), so the event stream sends only changes and a page re-renders only on them.
   */
  public synchronized String json() {
    long now = System.currentTimeMillis();
    if (cached == null || now - cachedAt >= maxAgeMs) {
      ObjectNode snapshot = read();
      String content = snapshot.toString();
      if (!content.equals(cachedContent)) {
        cachedContent = content;
        snapshot.put("changedAt", now);
        cached = snapshot.toString();
      }
      cachedAt = now;
    }
    return cached;
  }

  /** A page of a build's stored output, or empty when there is no such build; read fresh, never cached. */
  public java.util.Optional<dev.conveyor.submitqueue.build.BuildLogs.Page> buildLog(String buildId, long offset,
      int limit) {
    return ledger.read(tx -> dev.conveyor.submitqueue.build.BuildLogs.page(tx, buildId, offset, limit));
  }

  /** Records every group's lag now in the lag history (the web server calls this every ten seconds). */
  void sampleLag() {
    var lags = ledger.read(TopicStatus::lags);
    lagHistory.record(System.currentTimeMillis(), lags);
  }

  /** A topic's page: its groups, lag over time, and a page of dead letters below {@code before}; empty if unknown. */
  java.util.Optional<ObjectNode> topic(String name, long before, int limit) {
    return ledger.read(tx -> topics.one(tx, name, before, limit)).map(t -> {
      var history = t.putArray("lagHistory");
      for (LagHistory.Sample sample : lagHistory.of(name)) {
        ObjectNode n = history.addObject();
        n.put("at", sample.atMs());
        n.set("lag", MAPPER.valueToTree(sample.lagByGroup()));
      }
      return t;
    });
  }

  /** A page of capture roots, newest first, filtered by table and state. */
  com.fasterxml.jackson.databind.node.ArrayNode captures(String table, String state, String before, int limit) {
    return ledger.read(tx -> capture.rootsPage(tx, table, state, before, limit));
  }

  /** A batch's page: members, dependencies, paths and builds; empty when there is no such batch. */
  java.util.Optional<ObjectNode> batch(String batchId) {
    return ledger.read(tx -> submitQueue.batch(tx, batchId));
  }

  private ObjectNode read() {
    return ledger.read(tx -> {
      ObjectNode s = MAPPER.createObjectNode();
      s.put("node", node);
      s.put("ledger", ledger.url().toString());
      // each section holds its newest N; "omitted" counts what it left out
      ObjectNode omitted = MAPPER.createObjectNode();
      s.set("queues", submitQueue.read(tx, configuredQueues.get(), omitted));
      s.set("captures", capture.read(tx, omitted));
      s.set("topics", topics.read(tx, omitted));
      s.set("audit", audit(tx));
      s.set("omitted", omitted);
      return s;
    });
  }

  /** The newest entries of the audit log (who did what from this page, when, and how it ended). */
  private static com.fasterxml.jackson.databind.node.ArrayNode audit(dev.conveyor.ledger.Tx tx)
      throws java.sql.SQLException {
    var out = MAPPER.createArrayNode();
    for (ObjectNode e : tx.query("SELECT at_ms, actor, action, target, outcome, detail FROM audit_log"
        + " ORDER BY at_ms DESC, entry_id DESC LIMIT " + AUDIT_SHOWN, rs -> {
          ObjectNode n = MAPPER.createObjectNode();
          n.put("at", rs.getLong(1));
          n.put("actor", rs.getString(2));
          n.put("action", rs.getString(3));
          n.put("target", rs.getString(4));
          n.put("outcome", rs.getString(5));
          n.put("detail", rs.getString(6));
          return n;
        })) {
      out.add(e);
    }
    return out;
  }
}
