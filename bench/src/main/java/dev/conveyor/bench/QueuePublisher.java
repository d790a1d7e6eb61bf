package dev.conveyor.bench;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.util.concurrent.locks.LockSupport;

/**
 * The queue benchmark's publisher, run in its own JVM: {@code url key wire count} publishes {@code count}
 * messages, one per transaction at ~500/s, each carrying the wall-clock microsecond its publish began
 * (both processes read the same machine clock) and its index.
 */
public final class QueuePublisher {
  private QueuePublisher() {}

  static long nowMicros() {
    Instant now = Instant.now();
    return now.getEpochSecond() * 1_000_000L + now.getNano() / 1_000;
  }

  public static void main(String[] args) throws Exception {
    String url = args[0];
    TopicKey topic = TopicKey.of(args[1]);
    int count = Integer.parseInt(args[3]);
    TopicRegistry registry = TopicRegistry.builder()
        .register(topic, TopicConfig.defaults(args[2]).withPartitions(16).withRetention(java.time.Duration.ZERO))
        .build();
    try (Ledger ledger = Ledger.open(url); Streams streams = new Streams(ledger, registry)) {
      publish(ledger, streams, topic, "", count);
    }
  }

  /** Publishes {@code count} timed messages, one per transaction, ~2 ms apart (ids prefixed by {@code run}). */
  static void publish(Ledger ledger, Streams streams, TopicKey topic, String run, int count) {
    for (int i = 0; i < count; i++) {
      int n = i;
      ledger.transact(tx -> streams.publisher().publish(tx, topic, "key-" + n, run + "lat-" + n,
          ByteBuffer.allocate(12).putLong(nowMicros()).putInt(n).array()));
      LockSupport.parkNanos(2_000_000);
    }
  }
}
