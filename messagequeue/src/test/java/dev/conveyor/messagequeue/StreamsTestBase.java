package dev.conveyor.messagequeue;

import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.messagequeue.consume.Consumer;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.stream.PublishResult;
import dev.conveyor.messagequeue.stream.Partitioner;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

/** A ledger plus a message-queue runtime with a few test topics; consumers are closed after each test. */
public abstract class StreamsTestBase extends LedgerTestBase {
  public static final TopicKey ORDERS = TopicKey.of("test.orders");
  public static final TopicKey WORK = TopicKey.of("test.work");

  protected Streams streams;
  private final List<Consumer> consumers = new ArrayList<>();

  public static TopicRegistry registry() {
    return TopicRegistry.builder()
        .register(ORDERS, TopicConfig.defaults("test-orders").withPartitions(8).withRetention(Duration.ZERO))
        .register(WORK, TopicConfig.defaults("test-work").withPartitions(4).withMaxAttempts(3)
            .withRetention(Duration.ZERO))
        .build();
  }

  @BeforeEach
  void openStreams() {
    streams = new Streams(ledger, registry());
  }

  @AfterEach
  void closeStreams() {
    consumers.forEach(c -> c.close(Duration.ofSeconds(5)));
    consumers.clear();
    streams.close();
  }

  protected Consumer consume(TopicKey topic, ConsumerOptions options,
      dev.conveyor.messagequeue.consume.MessageHandler handler) {
    Consumer c = streams.consume(topic, options, handler);
    consumers.add(c);
    return c;
  }

  protected Consumer track(Consumer c) {
    consumers.add(c);
    return c;
  }

  protected static ConsumerOptions fast(String group, String member) {
    return ConsumerOptions.defaults(group, member)
        .withLeaseTtl(Duration.ofSeconds(30)).withNackBackoff(Duration.ofSeconds(1), Duration.ofSeconds(8));
  }

  protected PublishResult publish(TopicKey topic, String key, String id, String body) {
    return ledger.transact(tx -> streams.publisher().publish(tx, topic, key, id, body.getBytes(StandardCharsets.UTF_8)));
  }

  /** A key that lands in {@code partition} of a topic with {@code partitions} partitions. */
  public static String keyFor(int partition, int partitions) {
    for (int i = 0; ; i++) {
      String k = "key-" + i;
      if (Partitioner.partition(k, partitions) == partition) {
        return k;
      }
    }
  }

  protected static String text(byte[] b) {
    return new String(b, StandardCharsets.UTF_8);
  }
}
