package dev.conveyor.messagequeue.stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.messagequeue.StreamsTestBase;
import dev.conveyor.messagequeue.consume.Outcome;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * 4 publishers × 8 partitions × 1,000 messages in concurrent transactions, some rolled back: a
 * group sees every committed message exactly once, in per-partition order, and no rolled-back one.
 */
public abstract class OrderingContract extends StreamsTestBase {
  private static final int PUBLISHERS = 4;
  private static final int PARTITIONS = 8;
  private static final int PER_PARTITION = 1_000;
  private static final int PER_TX = 20;

  private static final class RolledBack extends RuntimeException {
    private static final long serialVersionUID = 1L;
  }

  @Test
  void everyCommittedMessageOnceInPartitionOrderAndNoRolledBackOnes() throws Exception {
    Map<Integer, List<String>> received = new ConcurrentHashMap<>();
    Map<Integer, List<Long>> seqs = new ConcurrentHashMap<>();
    AtomicInteger total = new AtomicInteger();
    for (String member : List.of("m1", "m2")) {
      consume(ORDERS, fast("orders", member).withBatchSize(200).withParallelism(4), d -> {
        received.computeIfAbsent(d.message().partition(), p -> Collections.synchronizedList(new ArrayList<>()))
            .add(d.message().messageId());
        seqs.computeIfAbsent(d.message().partition(), p -> Collections.synchronizedList(new ArrayList<>()))
            .add(d.message().seq());
        total.incrementAndGet();
        return Outcome.ack();
      });
    }

    Map<String, List<String>> committedByPublisherAndPartition = new ConcurrentHashMap<>();
    Set<String> rolledBack = ConcurrentHashMap.newKeySet();
    ExecutorService pool = Executors.newFixedThreadPool(PUBLISHERS);
    List<Future<?>> publishers = new ArrayList<>();
    for (int pub = 0; pub < PUBLISHERS; pub++) {
      int me = pub;
      publishers.add(pool.submit(() -> {
        Random random = new Random(me);
        for (int p = 0; p < PARTITIONS; p++) {
          String key = keyFor(p, PARTITIONS);
          List<String> committed = new ArrayList<>();
          for (int i = 0; i < PER_PARTITION; i += PER_TX) {
            List<String> ids = new ArrayList<>();
            for (int j = i; j < i + PER_TX; j++) {
              ids.add("pub" + me + "-p" + p + "-" + j);
            }
            boolean rollback = random.nextInt(10) == 0;
            try {
              ledger.transact(tx -> {
                for (String id : ids) {
                  streams.publisher().publish(tx, ORDERS, key, id, id.getBytes(StandardCharsets.UTF_8));
                }
                if (rollback) {
                  throw new RolledBack();
                }
                return null;
              });
              committed.addAll(ids);
            } catch (RolledBack e) {
              rolledBack.addAll(ids);
            }
          }
          committedByPublisherAndPartition.put(me + ":" + p, committed);
        }
        return null;
      }));
    }
    for (Future<?> f : publishers) {
      f.get();
    }
    pool.shutdown();
    int committedCount = committedByPublisherAndPartition.values().stream().mapToInt(List::size).sum();
    assertThat(rolledBack).isNotEmpty();

    await().atMost(Duration.ofMinutes(3)).until(() -> total.get() >= committedCount);
    assertThat(total.get()).isEqualTo(committedCount);

    for (int p = 0; p < PARTITIONS; p++) {
      List<String> got = received.getOrDefault(p, List.of());
      assertThat(new HashSet<>(got)).as("duplicates in partition %d", p).hasSameSizeAs(got);
      assertThat(got).doesNotContainAnyElementsOf(rolledBack);
      List<Long> s = seqs.get(p);
      for (int i = 0; i < s.size(); i++) {
        assertThat(s.get(i)).as("gap-free sequence in partition %d", p).isEqualTo(i + 1L);
      }
      Map<Integer, List<String>> byPublisher = new HashMap<>();
      for (String id : got) {
        byPublisher.computeIfAbsent(Integer.parseInt(id.substring(3, id.indexOf('-'))), k -> new ArrayList<>()).add(id);
      }
      for (int pub = 0; pub < PUBLISHERS; pub++) {
        assertThat(byPublisher.getOrDefault(pub, List.of())).as("publisher %d order in partition %d", pub, p)
            .containsExactlyElementsOf(committedByPublisherAndPartition.get(pub + ":" + p));
      }
    }
  }
}
