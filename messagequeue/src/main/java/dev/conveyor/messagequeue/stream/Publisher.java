package dev.conveyor.messagequeue.stream;

import com.google.protobuf.Message;
import dev.conveyor.api.ProtoJson;
import dev.conveyor.ledger.Dialect;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import dev.conveyor.messagequeue.wakeup.PgNotifyListener;
import dev.conveyor.messagequeue.wakeup.Wakeups;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Publishes inside the caller's transaction, so a state change and the messages it causes commit
 * together (transactional outbox). Sequences are assigned under the partition row's lock, so they
 * are gap-free and commit in order; a rolled-back publish leaves no trace.
 *
 * <p>A transaction that publishes to several partitions should use {@link #publishAll}: it locks
 * partitions in one canonical order, so concurrent publishers cannot deadlock on each other.
 */
public final class Publisher {
  private final TopicRegistry registry;
  private final Wakeups wakeups;
  /** Partition rows known to exist (they are never deleted), so publishing skips the upsert. */
  private final java.util.Set<String> knownPartitions = java.util.concurrent.ConcurrentHashMap.newKeySet();

  /** This process's consumer-group members: a commit whose partitions only they hold needs no NOTIFY. */
  private final java.util.function.Supplier<java.util.Set<String>> membersHere;

  public Publisher(TopicRegistry registry, Wakeups wakeups) {
    this(registry, wakeups, java.util.Set::of);
  }

  public Publisher(TopicRegistry registry, Wakeups wakeups,
      java.util.function.Supplier<java.util.Set<String>> membersHere) {
    this.registry = registry;
    this.wakeups = wakeups;
    this.membersHere = membersHere;
  }

  public PublishResult publish(Tx tx, TopicKey topic, String partitionKey, String messageId, byte[] payload)
      throws SQLException {
    TopicConfig config = registry.config(topic);
    return append(tx, config.wireName(), config.partitions(), partitionKey, messageId, payload);
  }

  /**
   * Publishes many messages in the caller's transaction in a handful of round trips: every
   * partition lock in one ordered statement (so concurrent publishers cannot deadlock), one
   * dedupe query, one batched insert and one batched sequence update. Results come back in the
   * order of {@code messages}.
   */
  public List<PublishResult> publishAll(Tx tx, List<Outgoing> messages) throws SQLException {
    if (messages.isEmpty()) {
      return List.of();
    }
    record Placed(int index, Outgoing out, String wire, int partition) {
      String partitionKey() {
        return wire + "#" + partition;
      }
    }
    List<Placed> placed = new ArrayList<>(messages.size());
    Map<String, int[]> partitions = new TreeMap<>();
    Map<String, String> wireOf = new HashMap<>();
    for (int i = 0; i < messages.size(); i++) {
      Outgoing o = messages.get(i);
      validate(o.partitionKey(), o.messageId(), o.payload());
      TopicConfig config = registry.config(o.topic());
      Placed p = new Placed(i, o, config.wireName(), Partitioner.partition(o.partitionKey(), config.partitions()));
      placed.add(p);
      partitions.putIfAbsent(p.partitionKey(), new int[] {p.partition()});
      wireOf.putIfAbsent(p.partitionKey(), p.wire());
    }
    for (Map.Entry<String, int[]> e : partitions.entrySet()) {
      ensurePartitionRow(tx, wireOf.get(e.getKey()), e.getValue()[0]);
    }
    Map<String, Long> next = lockPartitions(tx, partitions, wireOf);
    Map<String, Long> existing = existingIds(tx, placed.stream()
        .map(p -> new Object[] {p.wire(), p.partition(), p.out().messageId()}).toList());

    PublishResult[] results = new PublishResult[messages.size()];
    List<Object[]> inserts = new ArrayList<>();
    for (Placed p : placed) {
      String idKey = p.partitionKey() + "#" + p.out().messageId();
      Long seq = existing.get(idKey);
      if (seq != null) {
        results[p.index()] = new PublishResult(p.wire(), p.partition(), seq, true);
        continue;
      }
      long assigned = next.merge(p.partitionKey(), 1L, Long::sum) - 1;
      existing.put(idKey, assigned);
      inserts.add(new Object[] {p.wire(), p.partition(), assigned, p.out().messageId(), p.out().partitionKey(),
          p.out().payload(), tx.nowMillis()});
      results[p.index()] = new PublishResult(p.wire(), p.partition(), assigned, false);
    }
    try {
      tx.batch("INSERT INTO mq_messages (topic, partition_no, seq, message_id, partition_key, payload, published_at)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?)", inserts);
    } catch (SQLException e) {
      if (tx.dialect().isUniqueViolation(e)
          || (e.getNextException() != null && tx.dialect().isUniqueViolation(e.getNextException()))) {
        // the same intent id was published concurrently; the retry sees it and reports a duplicate
        throw new dev.conveyor.ledger.OptimisticConflictException("message id published concurrently");
      }
      throw e;
    }
    List<Object[]> updates = new ArrayList<>();
    for (Map.Entry<String, Long> e : next.entrySet()) {
      updates.add(new Object[] {e.getValue(), wireOf.get(e.getKey()), partitions.get(e.getKey())[0]});
    }
    tx.batch("UPDATE mq_partitions SET next_seq = ? WHERE topic = ? AND partition_no = ?", updates);
    Map<String, java.util.SortedSet<Integer>> touched = new java.util.TreeMap<>();
    for (Placed p : placed) {
      touched.computeIfAbsent(p.wire(), w -> new java.util.TreeSet<>()).add(p.partition());
    }
    for (Map.Entry<String, java.util.SortedSet<Integer>> e : touched.entrySet()) {
      notifyOtherNodes(tx, e.getKey(), e.getValue());
    }
    java.util.Set<Placed> signalled = new java.util.HashSet<>();
    java.util.Set<String> keys = new java.util.HashSet<>();
    for (Placed p : placed) {
      if (keys.add(p.partitionKey())) {
        signalled.add(p);
      }
    }
    tx.afterCommit(() -> signalled.forEach(p -> wakeups.signal(p.wire(), p.partition())));
    return List.of(results);
  }

  private static Map<String, Long> lockPartitions(Tx tx, Map<String, int[]> partitions, Map<String, String> wireOf)
      throws SQLException {
    List<Object> args = new ArrayList<>();
    StringBuilder where = new StringBuilder();
    for (Map.Entry<String, int[]> e : partitions.entrySet()) {
      where.append(where.length() == 0 ? "" : " OR ").append("(topic = ? AND partition_no = ?)");
      args.add(wireOf.get(e.getKey()));
      args.add(e.getValue()[0]);
    }
    Map<String, Long> next = new HashMap<>();
    // Rows are locked in the ORDER BY order, the same for every publisher.
    tx.query("SELECT topic, partition_no, next_seq FROM mq_partitions WHERE " + where
        + " ORDER BY topic, partition_no" + tx.dialect().forUpdate(),
        rs -> next.put(rs.getString(1) + "#" + rs.getInt(2), rs.getLong(3)), args.toArray());
    return next;
  }

  /** Already-retained intent ids, one indexed query per partition ((topic, partition, id) index). */
  private static Map<String, Long> existingIds(Tx tx, List<Object[]> triples) throws SQLException {
    Map<String, List<String>> idsByPartition = new TreeMap<>();
    Map<String, Object[]> partitionOf = new HashMap<>();
    for (Object[] t : triples) {
      String key = t[0] + "#" + t[1];
      idsByPartition.computeIfAbsent(key, k -> new ArrayList<>()).add((String) t[2]);
      partitionOf.putIfAbsent(key, t);
    }
    Map<String, Long> existing = new HashMap<>();
    for (Map.Entry<String, List<String>> e : idsByPartition.entrySet()) {
      Object[] part = partitionOf.get(e.getKey());
      List<String> ids = e.getValue();
      for (int from = 0; from < ids.size(); from += 500) {
        List<String> chunk = ids.subList(from, Math.min(ids.size(), from + 500));
        List<Object> args = new ArrayList<>(List.of(part[0], part[1]));
        args.addAll(chunk);
        tx.query("SELECT message_id, seq FROM mq_messages WHERE topic = ? AND partition_no = ? AND message_id IN ("
            + String.join(", ", java.util.Collections.nCopies(chunk.size(), "?")) + ")",
            rs -> existing.put(e.getKey() + "#" + rs.getString(1), rs.getLong(2)), args.toArray());
      }
    }
    return existing;
  }

  /** Publishes a contract message as protobuf JSON. */
  public PublishResult publish(Tx tx, TopicKey topic, String partitionKey, String messageId, Message message)
      throws SQLException {
    return publish(tx, topic, partitionKey, messageId, ProtoJson.toBytes(message));
  }

  /**
   * Holds the message until {@code delay} has passed, then appends it (sequenced at that time,
   * so a delayed message never blocks the partition). Duplicate intent ids are refused while
   * scheduled. Returns false for such a duplicate.
   */
  public boolean publishAfter(Tx tx, TopicKey topic, String partitionKey, String messageId, byte[] payload,
      Duration delay) throws SQLException {
    validate(partitionKey, messageId, payload);
    if (delay.isNegative()) {
      throw new IllegalArgumentException("delay must not be negative, got " + delay);
    }
    TopicConfig config = registry.config(topic);
    int n = tx.update("INSERT INTO mq_scheduled (topic, message_id, partition_key, payload, due_at, created_at)"
            + " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING", config.wireName(), messageId, partitionKey, payload,
        tx.nowMillis() + delay.toMillis(), tx.nowMillis());
    return n == 1;
  }

  /** Appends every due scheduled message (up to {@code limit}); answers how many moved. */
  public int pumpDue(Tx tx, int limit) throws SQLException {
    record Due(String topic, String id, String key, byte[] payload) {}
    List<Due> due = tx.query("SELECT topic, message_id, partition_key, payload FROM mq_scheduled WHERE due_at <= ?"
        + " ORDER BY due_at, topic, message_id LIMIT ?" + tx.dialect().forUpdateSkipLocked(),
        rs -> new Due(rs.getString(1), rs.getString(2), rs.getString(3), rs.getBytes(4)), tx.nowMillis(), limit);
    for (Due d : due) {
      int partitions = registry.configOfWire(d.topic()).map(TopicConfig::partitions).orElse(1);
      append(tx, d.topic(), partitions, d.key(), d.id(), d.payload());
      tx.update("DELETE FROM mq_scheduled WHERE topic = ? AND message_id = ?", d.topic(), d.id());
    }
    return due.size();
  }

  /** Appends to a wire topic directly; used for dead letters and redrives. */
  public PublishResult append(Tx tx, String wireTopic, int partitions, String partitionKey, String messageId,
      byte[] payload) throws SQLException {
    validate(partitionKey, messageId, payload);
    int partition = Partitioner.partition(partitionKey, partitions);
    long next = lockPartition(tx, wireTopic, partition);
    Optional<Long> existing = tx.queryOne("SELECT seq FROM mq_messages WHERE topic = ? AND partition_no = ?"
        + " AND message_id = ?", rs -> rs.getLong(1), wireTopic, partition, messageId);
    if (existing.isPresent()) {
      return new PublishResult(wireTopic, partition, existing.get(), true);
    }
    tx.update("INSERT INTO mq_messages (topic, partition_no, seq, message_id, partition_key, payload, published_at)"
        + " VALUES (?, ?, ?, ?, ?, ?, ?)", wireTopic, partition, next, messageId, partitionKey, payload, tx.nowMillis());
    tx.update("UPDATE mq_partitions SET next_seq = ? WHERE topic = ? AND partition_no = ?", next + 1, wireTopic,
        partition);
    notifyOtherNodes(tx, wireTopic, List.of(partition));
    tx.afterCommit(() -> wakeups.signal(wireTopic, partition));
    return new PublishResult(wireTopic, partition, next, false);
  }

  private void ensurePartitionRow(Tx tx, String wireTopic, int partition) throws SQLException {
    String known = wireTopic + "#" + partition;
    if (!knownPartitions.contains(known)) {
      tx.update("INSERT INTO mq_partitions (topic, partition_no, next_seq, low_seq) VALUES (?, ?, 1, 1)"
          + " ON CONFLICT DO NOTHING", wireTopic, partition);
      tx.afterCommit(() -> knownPartitions.add(known));
    }
  }

  /** Takes the partition's row lock (held to commit) and answers its next sequence. */
  private long lockPartition(Tx tx, String wireTopic, int partition) throws SQLException {
    ensurePartitionRow(tx, wireTopic, partition);
    return tx.queryLong("SELECT next_seq FROM mq_partitions WHERE topic = ? AND partition_no = ?"
        + tx.dialect().forUpdate(), wireTopic, partition);
  }

  /**
   * Wakes whoever watches {@code key} in this process after commit, and on PostgreSQL in every process
   * (consumers of a group watch its rebalance key).
   */
  public void announce(Tx tx, String key) throws SQLException {
    if (tx.dialect() == Dialect.POSTGRESQL) {
      tx.queryOne("SELECT pg_notify(?, ?)", rs -> 1, PgNotifyListener.CHANNEL, wakeups.tagged(key));
    }
    tx.afterCommit(() -> wakeups.signal(key));
  }

  /**
   * On PostgreSQL, consumers on other nodes hear of the commit through LISTEN/NOTIFY, naming the
   * partitions written ({@link PgNotifyListener#payload}), so a node re-reads only those partitions. Not
   * when every group's lease on them is held in this process: its consumers are woken after the commit,
   * and a NOTIFY would cost a transaction in every listening process for nothing (PostgreSQL wakes them
   * all). A takeover racing this commit is covered by the new holder's first drain, or else by its beat,
   * which wakes held partitions that have work.
   */
  private void notifyOtherNodes(Tx tx, String wireTopic, java.util.Collection<Integer> partitions)
      throws SQLException {
    if (tx.dialect() == Dialect.POSTGRESQL && !heldOnlyHere(tx, wireTopic, partitions)) {
      tx.queryOne("SELECT pg_notify(?, ?)", rs -> 1, PgNotifyListener.CHANNEL,
          wakeups.tagged(PgNotifyListener.payload(wireTopic, partitions)));
    }
  }

  /** Whether some group holds these partitions and every holder is one of this process's members. */
  private boolean heldOnlyHere(Tx tx, String wireTopic, java.util.Collection<Integer> partitions)
      throws SQLException {
    java.util.Set<String> here = membersHere.get();
    if (here.isEmpty() || partitions.isEmpty() || partitions.size() > 64) {
      return false;
    }
    List<Object> args = new java.util.ArrayList<>();
    args.add(wireTopic);
    args.addAll(partitions);
    List<String> owners = tx.query("SELECT owner FROM mq_group_partitions WHERE topic = ? AND partition_no IN ("
        + String.join(", ", java.util.Collections.nCopies(partitions.size(), "?")) + ")",
        rs -> rs.getString(1), args.toArray());
    return !owners.isEmpty() && owners.stream().allMatch(o -> o != null && here.contains(o));
  }

  private static void validate(String partitionKey, String messageId, byte[] payload) {
    if (partitionKey == null || partitionKey.isEmpty()) {
      throw new IllegalArgumentException("partition key must not be empty");
    }
    if (messageId == null || messageId.isBlank()) {
      throw new IllegalArgumentException("message id must not be empty");
    }
    if (messageId.getBytes(StandardCharsets.UTF_8).length > 512 || partitionKey.length() > 512) {
      throw new IllegalArgumentException("message id and partition key must be at most 512 bytes");
    }
    if (payload == null) {
      throw new IllegalArgumentException("payload must not be null");
    }
  }
}
