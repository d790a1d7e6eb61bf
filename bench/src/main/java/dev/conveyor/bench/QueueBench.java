package dev.conveyor.bench;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.LedgerOptions;
import dev.conveyor.messagequeue.consume.Consumer;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.messagequeue.stream.Outgoing;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.locks.LockSupport;

/**
 * Message hand-off on 16 partitions: (1) latency from publish commit to handler entry at a
 * paced rate, (2) sustained throughput with publishers and one consumer group running together.
 */
final class QueueBench {
  private static final TopicKey TOPIC = TopicKey.of("bench.queue");
  private static final String WIRE = "bench-queue";
  private static final int PARTITIONS = 16;

  private QueueBench() {}

  record Result(String name, double p50Ms, double p99Ms, double localP50Ms, double localP99Ms, double perSecond,
      double keyedPerSecond, int messages) {}

  static void run(BenchArgs a) throws Exception {
    int messages = a.jobs();
    System.out.printf("queue benchmark: %d partitions, latency at ~500 msg/s, throughput with %d messages%n",
        PARTITIONS, messages);
    List<Result> results = new ArrayList<>();
    results.add(measure("PostgreSQL", Pg.freshDatabase(a, "queue").replace("jdbc:postgresql://",
        "postgresql://postgres@"), messages, a));
    results.add(measure("SQLite", "sqlite:" + Files.createTempDirectory("conveyor-qbench").resolve("q.db"), messages, a));
    System.out.println();
    System.out.printf("%-12s %10s %10s %12s %12s %14s %14s%n", "ledger", "p50 ms", "p99 ms", "local p50",
        "local p99", "mixed msgs/s", "keyed msgs/s");
    for (Result r : results) {
      System.out.printf("%-12s %10.2f %10.2f %12.2f %12.2f %14.0f %14.0f%n", r.name(), r.p50Ms(), r.p99Ms(),
          r.localP50Ms(), r.localP99Ms(), r.perSecond(), r.keyedPerSecond());
    }
    System.out.println("p50/p99: publisher and consumer in different JVMs (PostgreSQL wakes the consumer by NOTIFY;"
        + " SQLite has no cross-process signal, so its consumer finds the message at its next poll, 200 ms here).");
    System.out.println("local: publisher and consumer in one process sharing the ledger, as serve's stages do"
        + " (SQLite wakes by in-process signal).");
    System.out.println("mixed: every publisher transaction spans all 16 partitions (publishers serialise on them);");
    System.out.println("keyed: each publisher owns a disjoint set of partitions, as producers keyed by entity do.");
    Result pg = results.get(0);
    System.out.printf("%ntargets on PostgreSQL: p50 < 10 ms: %s; >= 5,000 msgs/s: mixed %s, keyed %s%n",
        pg.p50Ms() < 10 ? "met" : "NOT met", pg.perSecond() >= 5000 ? "met" : "NOT met",
        pg.keyedPerSecond() >= 5000 ? "met" : "NOT met");
  }

  private static Result measure(String name, String url, int messages, BenchArgs a) throws Exception {
    TopicRegistry registry = TopicRegistry.builder()
        .register(TOPIC, TopicConfig.defaults(WIRE).withPartitions(PARTITIONS).withRetention(Duration.ZERO))
        .build();
    try (Ledger ledger = Ledger.open(LedgerOptions.defaults(url).withPoolSize(a.threads() + 8));
         Streams streams = new Streams(ledger, registry)) {
      double[] latency = latency(streams, url, 2_000, false);
      double[] local = latency(streams, url, 2_000, true);
      double perSecond = throughput(streams, messages, a.threads(), false, "mixed");
      double keyed = throughput(streams, messages, a.threads(), true, "keyed");
      return new Result(name, latency[0], latency[1], local[0], local[1], perSecond, keyed, messages);
    }
  }

  private static ConsumerOptions options(String group, int parallelism) {
    return ConsumerOptions.defaults(group, "bench-node").withParallelism(parallelism).withBatchSize(256);
  }

  /** A key of publisher {@code me}'s own partitions (partition % publishers == me). */
  private static String ownKey(int me, int i, int publishers) {
    for (int salt = 0; ; salt++) {
      String key = "own-" + me + "-" + i + "-" + salt;
      if (dev.conveyor.messagequeue.stream.Partitioner.partition(key, PARTITIONS) % publishers == me) {
        return key;
      }
    }
  }

  /**
   * A publisher in another JVM ({@link QueuePublisher}) publishes one message per transaction at ~500/s,
   * each carrying the wall-clock microsecond its publish began; this JVM's consumer answers p50 and p99
   * publish→handler in ms. A message that never arrives fails the run (it is not a zero latency).
   */
  private static double[] latency(Streams streams, String url, int count, boolean inProcess) throws Exception {
    long[] micros = new long[count];
    java.util.BitSet arrived = new java.util.BitSet(count);
    String run = inProcess ? "local-" : "";
    Consumer consumer = streams.consume(TOPIC, options(inProcess ? "latency-local" : "latency", 8), d -> {
      long now = QueuePublisher.nowMicros();
      if (!d.message().messageId().startsWith(run + "lat-")) {
        return Outcome.ack(); // an earlier run's message, read by this new group: not a sample
      }
      ByteBuffer payload = ByteBuffer.wrap(d.payload());
      long sent = payload.getLong();
      int i = payload.getInt(8);
      synchronized (arrived) {
        if (!arrived.get(i)) { // at-least-once: a redelivery is not a second sample
          arrived.set(i);
          micros[i] = now - sent;
        }
      }
      return Outcome.ack();
    });
    Thread.sleep(500); // let the member take its partitions before timing starts
    if (inProcess) {
      QueuePublisher.publish(streams.ledger(), streams, TOPIC, run, count);
    } else {
      Process publisher = new ProcessBuilder(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
          "-cp", System.getProperty("java.class.path"), QueuePublisher.class.getName(), url, "bench.queue",
          WIRE, String.valueOf(count)).redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
      if (publisher.waitFor() != 0) {
        throw new IllegalStateException("the publisher process failed (exit " + publisher.exitValue() + ")");
      }
    }
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(60);
    while (cardinality(arrived) < count && System.nanoTime() < deadline) {
      Thread.sleep(10);
    }
    consumer.close(Duration.ofSeconds(5));
    int got = cardinality(arrived);
    if (got < count) {
      throw new IllegalStateException("latency: " + (count - got) + " of " + count + " messages never arrived");
    }
    long[] sorted = Arrays.stream(micros).map(m -> m * 1000).sorted().toArray();
    return new double[] {JobsBench.percentile(sorted, 0.50), JobsBench.percentile(sorted, 0.99)};
  }

  private static int cardinality(java.util.BitSet set) {
    synchronized (set) {
      return set.cardinality();
    }
  }

  /**
   * Publishers (100 messages per transaction) and a consumer group run together; answers
   * messages/s end to end. Keyed publishers only use keys of their own partitions.
   */
  private static double throughput(Streams streams, int count, int publishers, boolean keyed, String label)
      throws Exception {
    AtomicInteger seen = new AtomicInteger();
    String prefix = "tp-" + label + "-";
    Consumer consumer = streams.consume(TOPIC, options("throughput-" + label, 8), d -> {
      if (d.message().messageId().startsWith(prefix)) {
        seen.incrementAndGet(); // the group also reads the latency phase's messages; count only ours
      }
      return Outcome.ack();
    });
    Thread.sleep(500);
    long start = System.nanoTime();
    ExecutorService pool = Executors.newFixedThreadPool(publishers);
    List<Future<?>> tasks = new ArrayList<>();
    int perPublisher = count / publishers;
    for (int p = 0; p < publishers; p++) {
      int me = p;
      tasks.add(pool.submit(() -> {
        for (int from = 0; from < perPublisher; from += 100) {
          int first = from;
          List<Outgoing> batch = new ArrayList<>();
          for (int i = first; i < Math.min(perPublisher, first + 100); i++) {
            batch.add(new Outgoing(TOPIC, keyed ? ownKey(me, i, publishers) : "key-" + me + "-" + i,
                prefix + me + "-" + i, new byte[64]));
          }
          streams.ledger().transact(tx -> streams.publisher().publishAll(tx, batch));
        }
        return null;
      }));
    }
    for (Future<?> t : tasks) {
      t.get();
    }
    pool.shutdown();
    double publishSeconds = (System.nanoTime() - start) / 1e9;
    System.out.printf("  %s %s: published %d in %.2f s (%.0f/s); consumed %d by then%n", streams.ledger().dialect(), label,
        perPublisher * publishers, publishSeconds, perPublisher * publishers / publishSeconds, seen.get());
    int expected = perPublisher * publishers;
    long deadline = System.nanoTime() + TimeUnit.MINUTES.toNanos(10);
    while (seen.get() < expected && System.nanoTime() < deadline) {
      Thread.sleep(5);
    }
    double seconds = (System.nanoTime() - start) / 1e9;
    consumer.close(Duration.ofSeconds(5));
    if (seen.get() < expected) {
      throw new IllegalStateException(label + ": " + (expected - seen.get()) + " of " + expected
          + " messages never reached the consumer");
    }
    return seen.get() / seconds;
  }
}
