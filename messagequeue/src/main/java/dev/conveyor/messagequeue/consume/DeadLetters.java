package dev.conveyor.messagequeue.consume;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.base.DeadLetter;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.stream.PublishResult;
import dev.conveyor.messagequeue.stream.Publisher;
import dev.conveyor.messagequeue.stream.Replay;
import dev.conveyor.messagequeue.stream.StreamMessage;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/** Reading dead-letter topics and re-driving their messages to where they came from. */
public final class DeadLetters {
  private final Ledger ledger;
  private final TopicRegistry registry;
  private final Publisher publisher;

  public DeadLetters(Ledger ledger, TopicRegistry registry, Publisher publisher) {
    this.ledger = ledger;
    this.registry = registry;
    this.publisher = publisher;
  }

  /** A dead letter and its position in the dead-letter topic. */
  public record Entry(long seq, DeadLetter letter) {}

  public static String dlqOf(String wireTopic) {
    return wireTopic.endsWith(".dlq") ? wireTopic : wireTopic + ".dlq";
  }

  public List<Entry> list(String wireTopic, long afterSeq, int limit) {
    String dlq = dlqOf(wireTopic);
    List<StreamMessage> messages = ledger.transact(tx -> Replay.read(tx, dlq, 0, afterSeq, limit));
    List<Entry> out = new ArrayList<>();
    for (StreamMessage m : messages) {
      out.add(new Entry(m.seq(), decode(m)));
    }
    return out;
  }

  public Optional<Entry> show(String wireTopic, long seq) {
    List<Entry> one = list(wireTopic, seq - 1, 1);
    return one.isEmpty() || one.get(0).seq() != seq ? Optional.empty() : Optional.of(one.get(0));
  }

  /**
   * Publishes the dead letter's original payload to its original topic again, under an intent id
   * derived from the dead letter, so re-driving the same letter twice delivers it once.
   */
  public PublishResult redrive(String wireTopic, long seq) {
    Entry e = show(wireTopic, seq).orElseThrow(() -> new IllegalArgumentException("no dead letter " + seq + " in "
        + dlqOf(wireTopic)));
    DeadLetter d = e.letter();
    TopicConfig original = registry.configOfWire(d.getOriginalTopic()).orElseThrow(() ->
        new IllegalArgumentException("dead letter " + seq + " names topic '" + d.getOriginalTopic()
            + "', which is not registered here"));
    return ledger.transact(tx -> publisher.append(tx, original.wireName(), original.partitions(), d.getPartitionKey(),
        d.getMessageId() + "#redrive-" + seq, d.getPayload().toByteArray()));
  }

  /**
   * Drops one dead letter for good (an operator decided it needs no re-drive): deletes it from the dead-letter
   * topic, as retention would later. Answers whether it was there; a second discard answers false.
   */
  public boolean discard(String wireTopic, long seq) {
    String dlq = dlqOf(wireTopic);
    return ledger.transact(tx -> tx.update("DELETE FROM mq_messages WHERE topic = ? AND partition_no = 0 AND seq = ?",
        dlq, seq)) > 0;
  }

  static DeadLetter decode(StreamMessage m) {
    try {
      return ProtoJson.fromBytes(m.payload(), DeadLetter.getDefaultInstance());
    } catch (ProtoJson.PayloadException e) {
      throw new IllegalStateException("dead letter " + m.topic() + "#" + m.seq() + " is unreadable: " + e.getMessage());
    }
  }
}
