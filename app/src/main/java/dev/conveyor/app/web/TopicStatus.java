package dev.conveyor.app.web;

import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.base.DeadLetter;
import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;

/**
 * Message streams for the status page: every topic with its published count, each consumer group's
 * lag and head-of-line error, and for dead-letter topics their newest letters (what failed, where,
 * why). Unreadable letters are shown as such rather than failing the page.
 */
final class TopicStatus {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;
  private static final String DLQ = ".dlq";
  private final StatusLimits limits;

  TopicStatus(StatusLimits limits) {
    this.limits = limits;
  }

  ArrayNode read(Tx tx, ObjectNode omitted) throws SQLException {
    Map<String, ObjectNode> topics = new TreeMap<>();
    for (Object[] r : tx.query("SELECT topic, COUNT(*), SUM(next_seq - 1) FROM mq_partitions GROUP BY topic",
        rs -> new Object[] {rs.getString(1), rs.getLong(2), rs.getLong(3)})) {
      ObjectNode t = topic(topics, (String) r[0]);
      t.put("partitions", (Long) r[1]);
      t.put("published", (Long) r[2]);
    }
    for (Object[] r : tx.query("SELECT g.topic, g.group_name, SUM(p.next_seq - 1 - g.committed_seq),"
        + " MAX(g.head_attempts), MAX(g.head_last_error) FROM mq_group_partitions g JOIN mq_partitions p"
        + " ON p.topic = g.topic AND p.partition_no = g.partition_no GROUP BY g.topic, g.group_name"
        + " ORDER BY g.topic, g.group_name",
        rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getLong(3), rs.getInt(4), rs.getString(5)})) {
      ObjectNode g = ((ArrayNode) topic(topics, (String) r[0]).get("groups")).addObject();
      g.put("group", (String) r[1]);
      g.put("lag", (Long) r[2]);
      g.put("headAttempts", (Integer) r[3]);
      g.put("headError", limits.cut((String) r[4]));
    }
    // dead-letter topics holding letters first (what needs attention), then by name
    List<ObjectNode> shown = topics.values().stream().sorted(java.util.Comparator.comparing(
        (ObjectNode t) -> !t.get("topic").asText().endsWith(DLQ) || t.path("published").asLong() == 0))
        .limit(limits.topics()).sorted(java.util.Comparator.comparing(t -> t.get("topic").asText())).toList();
    omitted.put("topics", topics.size() - shown.size());
    for (ObjectNode t : shown) {
      String name = t.get("topic").asText();
      if (!name.endsWith(DLQ)) {
        continue;
      }
      t.put("deadLetter", true);
      ArrayNode letters = t.putArray("letters");
      for (Object[] m : tx.query("SELECT seq, payload FROM mq_messages WHERE topic = ? ORDER BY seq DESC LIMIT ?",
          rs -> new Object[] {rs.getLong(1), rs.getBytes(2)}, name, limits.lettersPerTopic())) {
        letters.add(letter((Long) m[0], (byte[]) m[1]));
      }
      long retained = tx.queryLong("SELECT COALESCE(SUM(next_seq - low_seq), 0) FROM mq_partitions WHERE topic = ?",
          name); // from the partition row, not by counting the letters
      t.put("retained", retained);
      t.put("omittedLetters", retained - letters.size());
    }
    ArrayNode out = JSON.arrayNode();
    shown.forEach(out::add);
    return out;
  }

  /**
   * One topic for its page: partitions, published, each group's lag and head-of-line error, and (for a dead-letter
   * topic) a page of letters, newest first, below sequence {@code before} (0: the newest). Empty when the topic
   * was never published to.
   */
  java.util.Optional<ObjectNode> one(Tx tx, String name, long before, int limit) throws SQLException {
    Map<String, ObjectNode> topics = new TreeMap<>();
    for (Object[] r : tx.query("SELECT COUNT(*), SUM(next_seq - 1) FROM mq_partitions WHERE topic = ? HAVING COUNT(*) > 0",
        rs -> new Object[] {rs.getLong(1), rs.getLong(2)}, name)) {
      ObjectNode t = topic(topics, name);
      t.put("partitions", (Long) r[0]);
      t.put("published", (Long) r[1]);
    }
    if (topics.isEmpty()) {
      return java.util.Optional.empty();
    }
    ObjectNode t = topics.get(name);
    for (Object[] r : tx.query("SELECT g.group_name, SUM(p.next_seq - 1 - g.committed_seq), MAX(g.head_attempts),"
        + " MAX(g.head_last_error) FROM mq_group_partitions g JOIN mq_partitions p ON p.topic = g.topic"
        + " AND p.partition_no = g.partition_no WHERE g.topic = ? GROUP BY g.group_name ORDER BY g.group_name",
        rs -> new Object[] {rs.getString(1), rs.getLong(2), rs.getInt(3), rs.getString(4)}, name)) {
      ObjectNode g = ((ArrayNode) t.get("groups")).addObject();
      g.put("group", (String) r[0]);
      g.put("lag", (Long) r[1]);
      g.put("headAttempts", (Integer) r[2]);
      g.put("headError", limits.cut((String) r[3]));
    }
    if (name.endsWith(DLQ)) {
      t.put("deadLetter", true);
      ArrayNode letters = t.putArray("letters");
      List<Object[]> rows = tx.query("SELECT seq, payload FROM mq_messages WHERE topic = ? AND seq < ?"
          + " ORDER BY seq DESC LIMIT ?", rs -> new Object[] {rs.getLong(1), rs.getBytes(2)}, name,
          before <= 0 ? Long.MAX_VALUE : before, limit + 1);
      for (Object[] m : rows.subList(0, Math.min(limit, rows.size()))) {
        letters.add(letter((Long) m[0], (byte[]) m[1]));
      }
      if (rows.size() > limit) {
        t.put("nextBefore", (Long) rows.get(limit - 1)[0]);
      }
    }
    return java.util.Optional.of(t);
  }

  /** Each consumer group's total lag per topic, now: what the lag history samples. */
  static Map<String, Map<String, Long>> lags(Tx tx) throws SQLException {
    Map<String, Map<String, Long>> out = new TreeMap<>();
    for (Object[] r : tx.query("SELECT g.topic, g.group_name, SUM(p.next_seq - 1 - g.committed_seq)"
        + " FROM mq_group_partitions g JOIN mq_partitions p ON p.topic = g.topic AND p.partition_no = g.partition_no"
        + " GROUP BY g.topic, g.group_name", rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getLong(3)})) {
      out.computeIfAbsent((String) r[0], k -> new TreeMap<>()).put((String) r[1], (Long) r[2]);
    }
    return out;
  }

  private static ObjectNode topic(Map<String, ObjectNode> topics, String name) {
    return topics.computeIfAbsent(name, n -> {
      ObjectNode t = JSON.objectNode();
      t.put("topic", n);
      t.put("deadLetter", false);
      t.putArray("groups");
      return t;
    });
  }

  private ObjectNode letter(long seq, byte[] payload) {
    ObjectNode l = JSON.objectNode();
    l.put("seq", seq);
    try {
      DeadLetter d = ProtoJson.fromBytes(payload, DeadLetter.getDefaultInstance());
      l.put("messageId", limits.cut(d.getMessageId()));
      l.put("original", d.getOriginalTopic() + "[" + d.getPartition() + "]#" + d.getSeq());
      l.put("group", d.getGroup());
      l.put("attempts", d.getAttempts());
      l.put("error", limits.cut(d.getLastError()));
      l.put("deadAt", d.getDeadAtMs());
    } catch (ProtoJson.PayloadException e) {
      l.put("error", "unreadable dead letter: " + e.getMessage());
    }
    return l;
  }
}
