package dev.conveyor.messagequeue.consume;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.base.DeadLetter;
import dev.conveyor.ledger.Ids;
import dev.conveyor.ledger.Tx;
import dev.conveyor.messagequeue.stream.Publisher;
import dev.conveyor.messagequeue.stream.StreamMessage;
import dev.conveyor.messagequeue.stream.Replay;
import com.google.protobuf.ByteString;
import java.sql.SQLException;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * The durable state of one consumer group on one topic: a row per partition holding its lease
 * (owner, epoch, expiry), its committed cursor, and the delivery state of its head message.
 */
final class GroupPartitions {
  private final String group;
  private final String topic;
  private final int partitions;
  private final String dlqTopic;
  private final int maxAttempts;
  private final Publisher publisher;

  GroupPartitions(String group, String topic, int partitions, String dlqTopic, int maxAttempts, Publisher publisher) {
    this.group = group;
    this.topic = topic;
    this.partitions = partitions;
    this.dlqTopic = dlqTopic;
    this.maxAttempts = maxAttempts;
    this.publisher = publisher;
  }

  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(GroupPartitions.class);

  private record Row(int partition, long committed, int headAttempts, long headNotBefore, String lastError,
      String owner, String epoch, long expiresAt) {}

  private static final String ROW = "SELECT partition_no, committed_seq, head_attempts, head_not_before,"
      + " head_last_error, owner, lease_epoch, COALESCE(lease_expires_at, 0) FROM mq_group_partitions";

  private static Row row(java.sql.ResultSet rs) throws SQLException {
    return new Row(rs.getInt(1), rs.getLong(2), rs.getInt(3), rs.getLong(4), rs.getString(5), rs.getString(6),
        rs.getString(7), rs.getLong(8));
  }

  /** Creates the group's rows; a new group starts at the oldest retained message. */
  void ensureRows(Tx tx) throws SQLException {
    List<Object[]> rows = new ArrayList<>();
    for (int p = 0; p < partitions; p++) {
      rows.add(new Object[] {group, topic, p, topic, p});
    }
    tx.batch("INSERT INTO mq_group_partitions (group_name, topic, partition_no, committed_seq, head_attempts,"
        + " head_not_before, takeovers, version) VALUES (?, ?, ?, COALESCE((SELECT low_seq - 1 FROM mq_partitions"
        + " WHERE topic = ? AND partition_no = ?), 0), 0, 0, 0, 0) ON CONFLICT DO NOTHING", rows);
  }

  /**
   * What a member holds after a rebalance; {@code gaveBack}: it released partitions (others should look
   * again); {@code owesMore}: it holds more than its share but those partitions are busy (look again soon).
   */
  record Held(Map<Integer, String> partitions, boolean gaveBack, boolean owesMore, boolean deferred) {
    Held(Map<Integer, String> partitions, boolean gaveBack, boolean owesMore) {
      this(partitions, gaveBack, owesMore, false);
    }
  }

  /**
   * Takes or gives back partitions so each live member of the group holds its fair share. A member is
   * live while its {@code mq_nodes} row has not expired ({@link MemberLiveness} renews it for all of a
   * process's groups in one write); a partition whose owner is not live is free, and taking it from
   * another member is a takeover. Busy partitions are never given back mid-message.
   *
   * <p>A member whose own liveness began less than {@code ttlMillis} ago (it just joined, or its row had
   * lapsed: it paused, or nobody could reach the database) takes nothing from members whose rows lapsed:
   * after a database outage longer than the TTL every row has lapsed, and the first member to beat would
   * otherwise take every partition, then hand them back as the others beat, each move redelivering what
   * was in flight. It answers {@code deferred} and looks again once it has been live for the TTL.
   */
  Held rebalance(Tx tx, String member, Set<Integer> busy, long ttlMillis) throws SQLException {
    long now = tx.nowMillis();
    tx.update("INSERT INTO mq_members (group_name, member_id, expires_at) VALUES (?, ?, 0)"
        + " ON CONFLICT (group_name, member_id) DO NOTHING", group, member);
    Map<String, Long> expiry = new HashMap<>();
    long liveSince = now;
    for (Object[] m : tx.query("SELECT n.member_id, n.expires_at, n.started_at FROM mq_nodes n JOIN mq_members m"
        + " ON m.member_id = n.member_id WHERE m.group_name = ?",
        rs -> new Object[] {rs.getString(1), rs.getLong(2), rs.getLong(3)}, group)) {
      expiry.put((String) m[0], (Long) m[1]);
      if (m[0].equals(member) && (Long) m[1] > now) {
        liveSince = (Long) m[2];
      }
    }
    boolean mayTakeOver = now - liveSince >= ttlMillis;
    boolean deferred = false;
    long live = 1 + expiry.entrySet().stream().filter(e -> !e.getKey().equals(member) && e.getValue() > now).count();
    int share = (int) ((partitions + live - 1) / live);
    List<Row> rows = tx.query(ROW + " WHERE group_name = ? AND topic = ? ORDER BY partition_no"
        + tx.dialect().forUpdate(), GroupPartitions::row, group, topic);

    Map<Integer, String> mine = new HashMap<>();
    for (Row r : rows) {
      if (member.equals(r.owner()) && r.epoch() != null) {
        mine.put(r.partition(), r.epoch());
      }
    }
    boolean gaveBack = false;
    for (int i = rows.size() - 1; i >= 0 && mine.size() > share; i--) {
      Row r = rows.get(i);
      if (mine.containsKey(r.partition()) && !busy.contains(r.partition())) {
        release(tx, r.partition(), member);
        mine.remove(r.partition());
        gaveBack = true;
      }
    }
    // Start the scan at a member-specific offset so members racing for free partitions spread out.
    int offset = Math.floorMod(member.hashCode(), Math.max(1, rows.size()));
    for (int i = 0; i < rows.size() && mine.size() < share; i++) {
      Row r = rows.get((i + offset) % rows.size());
      if (mine.containsKey(r.partition())) {
        continue;
      }
      Long ownerExpiry = r.owner() == null ? null : expiry.get(r.owner());
      boolean free = r.owner() == null || ownerExpiry == null || ownerExpiry <= now;
      if (!free) {
        continue;
      }
      if (ownerExpiry != null && !mayTakeOver) {
        deferred = true; // its owner may be back as soon as this member is
        continue;
      }
      boolean takeover = r.owner() != null;
      String epoch = Ids.opaque();
      tx.update("UPDATE mq_group_partitions SET owner = ?, lease_epoch = ?, lease_expires_at = NULL,"
              + " takeovers = takeovers + ?, version = version + 1 WHERE group_name = ? AND topic = ? AND partition_no = ?",
          member, epoch, takeover ? 1 : 0, group, topic, r.partition());
      if (takeover) { // who took what from whom, and how long the partition waited: once it is true
        String from = r.owner();
        int partitionNo = r.partition();
        String waited = ownerExpiry == null ? "whose member is gone" : "whose lease had lapsed " + (now - ownerExpiry)
            + " ms before";
        tx.afterCommit(() -> log.info("{} took {}[{}] of group {} from {}, {}", member, topic, partitionNo, group,
            from, waited));
      }
      mine.put(r.partition(), epoch);
    }
    return new Held(mine, gaveBack, mine.size() > share, deferred);
  }

  void release(Tx tx, int partition, String member) throws SQLException {
    tx.update("UPDATE mq_group_partitions SET owner = NULL, lease_epoch = NULL, lease_expires_at = NULL,"
        + " version = version + 1 WHERE group_name = ? AND topic = ? AND partition_no = ? AND owner = ?",
        group, topic, partition, member);
  }

  void leave(Tx tx, String member) throws SQLException {
    tx.update("UPDATE mq_group_partitions SET owner = NULL, lease_epoch = NULL, lease_expires_at = NULL,"
        + " version = version + 1 WHERE group_name = ? AND topic = ? AND owner = ?", group, topic, member);
    tx.update("DELETE FROM mq_members WHERE group_name = ? AND member_id = ?", group, member);
  }

  /**
   * Messages handed out together; {@code attempt} is the head's delivery count. No messages and a
   * positive {@code waitMillis}: the head backs off that much longer; no messages and no wait: the head
   * was dead-lettered (look again). {@code rest} says whether the read took every deliverable message
   * (it returned fewer than it asked for): a drain that settles them all then stops without reading again,
   * since a message published later wakes the partition anew.
   */
  record Batch(List<StreamMessage> messages, int attempt, long waitMillis, boolean rest) {
    Batch(List<StreamMessage> messages, int attempt) {
      this(messages, attempt, 0, false);
    }
  }

  /**
   * The next messages of a held partition, counting a delivery attempt against the head. After a
   * failed or interrupted attempt only the head is handed out, so a poison message is isolated.
   * A head that used up its attempts is dead-lettered here instead.
   */
  Optional<Batch> deliver(Tx tx, int partition, String epoch, int batchSize) throws SQLException {
    Row r = held(tx, partition, epoch);
    long now = tx.nowMillis();
    if (r.headNotBefore() > now) {
      return Optional.of(new Batch(List.of(), 0, r.headNotBefore() - now, false));
    }
    int limit = r.headAttempts() > 0 ? 1 : batchSize;
    List<StreamMessage> messages = Replay.read(tx, topic, partition, r.committed(), limit);
    if (messages.isEmpty()) {
      return Optional.empty();
    }
    StreamMessage head = messages.get(0);
    if (r.headAttempts() >= maxAttempts) {
      deadLetter(tx, head, r.headAttempts(), r.lastError() == null ? "interrupted " + r.headAttempts()
          + " times (crashed or timed out holder)" : r.lastError());
      return Optional.of(new Batch(List.of(), 0));
    }
    tx.update("UPDATE mq_group_partitions SET head_attempts = head_attempts + 1, version = version + 1"
        + " WHERE group_name = ? AND topic = ? AND partition_no = ?", group, topic, partition);
    return Optional.of(new Batch(messages, r.headAttempts() + 1, 0, messages.size() < limit));
  }

  /** Acks everything up to {@code seq}; fenced by the epoch, so a deposed member cannot ack. */
  void commit(Tx tx, int partition, String epoch, long seq) throws SQLException {
    int n = tx.update("UPDATE mq_group_partitions SET committed_seq = ?, head_attempts = 0, head_not_before = 0,"
        + " head_last_error = NULL, version = version + 1 WHERE group_name = ? AND topic = ? AND partition_no = ?"
        + " AND lease_epoch = ? AND committed_seq < ?", seq, group, topic, partition, epoch, seq);
    if (n == 0) {
      throw new PartitionLeaseLostException(group, topic, partition);
    }
  }

  void nack(Tx tx, int partition, String epoch, StreamMessage message, String error, Duration delay)
      throws SQLException {
    Row r = head(tx, partition, epoch, message);
    if (r.headAttempts() >= maxAttempts) {
      deadLetter(tx, message, r.headAttempts(), error);
      return;
    }
    tx.update("UPDATE mq_group_partitions SET head_not_before = ?, head_last_error = ?, version = version + 1"
        + " WHERE group_name = ? AND topic = ? AND partition_no = ?", tx.nowMillis() + delay.toMillis(),
        truncate(error), group, topic, partition);
  }

  void reject(Tx tx, int partition, String epoch, StreamMessage message, String error) throws SQLException {
    Row r = head(tx, partition, epoch, message);
    deadLetter(tx, message, r.headAttempts(), error);
  }

  /**
   * Re-delivers later and gives the attempt back; {@code error}, when not null, becomes the head's last
   * error (why it waits).
   */
  void postpone(Tx tx, int partition, String epoch, StreamMessage message, Duration delay, String error)
      throws SQLException {
    head(tx, partition, epoch, message);
    tx.update("UPDATE mq_group_partitions SET head_attempts = CASE WHEN head_attempts > 0 THEN head_attempts - 1"
        + " ELSE 0 END, head_not_before = ?, head_last_error = COALESCE(?, head_last_error), version = version + 1"
        + " WHERE group_name = ? AND topic = ? AND partition_no = ?", tx.nowMillis() + delay.toMillis(),
        error == null ? null : truncate(error), group, topic, partition);
  }

  /** Moves the head to the dead-letter topic and past it, in the caller's transaction. */
  private void deadLetter(Tx tx, StreamMessage m, int attempts, String error) throws SQLException {
    DeadLetter letter = DeadLetter.newBuilder()
        .setOriginalTopic(m.topic()).setPartition(m.partition()).setSeq(m.seq()).setMessageId(m.messageId())
        .setPartitionKey(m.partitionKey()).setGroup(group).setAttempts(attempts).setLastError(truncate(error))
        .setPayload(ByteString.copyFrom(m.payload())).setDeadAtMs(tx.nowMillis()).build();
    publisher.append(tx, dlqTopic, 1, m.partitionKey(), group + ":" + m.topic() + ":" + m.partition() + ":" + m.seq(),
        ProtoJson.toBytes(letter));
    tx.update("UPDATE mq_group_partitions SET committed_seq = ?, head_attempts = 0, head_not_before = 0,"
        + " head_last_error = NULL, version = version + 1 WHERE group_name = ? AND topic = ? AND partition_no = ?",
        m.seq(), group, topic, m.partition());
  }

  private Row held(Tx tx, int partition, String epoch) throws SQLException {
    Row r = tx.queryOne(ROW + " WHERE group_name = ? AND topic = ? AND partition_no = ?" + tx.dialect().forUpdate(),
        GroupPartitions::row, group, topic, partition).orElseThrow(() ->
        new PartitionLeaseLostException(group, topic, partition));
    if (!epoch.equals(r.epoch())) {
      throw new PartitionLeaseLostException(group, topic, partition);
    }
    return r;
  }

  private Row head(Tx tx, int partition, String epoch, StreamMessage message) throws SQLException {
    Row r = held(tx, partition, epoch);
    if (r.committed() != message.seq() - 1) {
      throw new PartitionLeaseLostException(group, topic, partition);
    }
    return r;
  }

  private static String truncate(String error) {
    String e = error == null ? "unknown error" : error;
    return e.length() > 4000 ? e.substring(0, 4000) : e;
  }
}
