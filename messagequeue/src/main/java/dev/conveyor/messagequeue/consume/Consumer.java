package dev.conveyor.messagequeue.consume;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.supervise.Supervisor;
import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One member of a consumer group on one topic. A coordinator thread heartbeats, keeps the
 * member's fair share of partition leases, pumps due delayed messages and hands each held
 * partition with work to a worker; a partition is processed by one worker at a time, in order.
 */
public final class Consumer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Consumer.class);

  private final Streams streams;
  private final Ledger ledger;
  private final ConsumerOptions options;
  private final TopicConfig topic;
  private final MessageHandler handler;
  private final ErrorClassifier classifier;
  private final GroupPartitions state;
  private final ExecutorService workers;
  private final ScheduledExecutorService timers;
  private final Thread coordinator;
  private final Supervisor supervisor;
  private final Set<Integer> busy = ConcurrentHashMap.newKeySet();
  /** Per partition: the wake-up version and time at which its last drain found nothing to deliver. */
  private final Map<Integer, long[]> idleSince = new ConcurrentHashMap<>();
  /** Per partition: deliveries in a row that ended with the ledger or a dependency unavailable. */
  private final Map<Integer, Integer> unavailableStreak = new ConcurrentHashMap<>();
  private int roundRobin;
  private volatile Map<Integer, String> owned = Map.of();
  private volatile boolean running = true;

  public Consumer(Streams streams, TopicConfig topic, ConsumerOptions options, MessageHandler handler,
      ErrorClassifier classifier) {
    this.streams = streams;
    this.ledger = streams.ledger();
    this.options = options;
    this.topic = topic;
    this.handler = handler;
    this.classifier = classifier;
    this.state = new GroupPartitions(options.group(), topic.wireName(), topic.partitions(), topic.dlqWireName(),
        topic.maxAttempts(), streams.publisher());
    this.workers = Executors.newFixedThreadPool(options.parallelism(), r -> daemon(r, "consumer-" + options.group()));
    this.timers = Executors.newSingleThreadScheduledExecutor(r -> daemon(r, "visibility-" + options.group()));
    ledger.transact(tx -> {
      state.ensureRows(tx);
      return null;
    });
    this.supervisor = streams.supervisor();
    this.coordinator = daemon(() -> supervisor.run("coordinator:" + options.group(), () -> running, this::coordinate),
        "coordinator-" + options.group() + "-" + options.memberId());
    this.coordinator.start();
  }

  private static Thread daemon(Runnable r, String name) {
    Thread t = new Thread(r, name);
    t.setDaemon(true);
    return t;
  }

  public String group() {
    return options.group();
  }

  /** Partitions this member holds right now. */
  public Set<Integer> ownedPartitions() {
    return owned.keySet();
  }

  private void coordinate() {
    long heartbeatEvery = Math.max(50, options.leaseTtl().toMillis() / 3);
    long lastHeartbeat = monotonicMillis() - heartbeatEvery;
    long seen = streams.wakeups().version();
    while (running) {
      try {
        long now = monotonicMillis();
        if (now - lastHeartbeat >= heartbeatEvery) {
          Set<Integer> busyNow = Set.copyOf(busy);
          owned = ledger.transact(tx -> state.rebalance(tx, options.memberId(), options.leaseTtl(), busyNow));
          lastHeartbeat = now;
          ledger.transact(tx -> streams.publisher().pumpDue(tx, 500));
        }
        boolean wokenWaiting = submitDrains(now);
        // a woken partition left waiting for a worker is handed one as soon as a drain ends, not a poll later
        long wait = wokenWaiting ? 5 : Math.min(options.pollInterval().toMillis(), heartbeatEvery);
        seen = streams.wakeups().awaitAfter(seen, Duration.ofMillis(wait));
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn("consumer {} coordinator: {}", options.group(), e.getMessage());
        sleepQuietly(options.pollInterval());
      }
    }
  }

  /**
   * Hands held partitions to workers, never more than there are workers (a queued partition would count
   * as busy and could not be handed to a member that joined meanwhile). Partitions woken since their last
   * drain (or never drained) go first; then, round-robin so none starves, idle ones whose poll interval
   * has passed. Polling idle partitions used to share one round-robin with woken ones, so with more
   * partitions than workers a woken partition waited behind rounds of empty polls — seconds, on a topic
   * keyed by request.
   */
  private boolean submitDrains(long now) {
    java.util.List<Integer> partitions = new java.util.ArrayList<>(owned.keySet());
    if (partitions.isEmpty()) {
      return false;
    }
    boolean wokenWaiting = false;
    java.util.Collections.sort(partitions);
    int start = roundRobin++;
    for (boolean woken : new boolean[] {true, false}) {
      for (int i = 0; i < partitions.size() && busy.size() < options.parallelism(); i++) {
        int p = partitions.get(Math.floorMod(start + i, partitions.size()));
        long[] idle = idleSince.get(p);
        boolean signalled = idle == null || idle[0] != streams.wakeups().version(topic.wireName(), p);
        boolean due = signalled || now - idle[1] >= options.pollInterval().toMillis();
        if (woken ? !signalled : !due) {
          continue;
        }
        String epoch = owned.get(p);
        if (epoch != null && busy.add(p)) {
          workers.execute(() -> supervisor.once("drain:" + options.group(), () -> drain(p, epoch)));
        }
      }
      if (woken) {
        for (int p : partitions) {
          long[] idle = idleSince.get(p);
          if (!busy.contains(p) && (idle == null || idle[0] != streams.wakeups().version(topic.wireName(), p))) {
            wokenWaiting = true;
          }
        }
      }
    }
    return wokenWaiting;
  }

  /** Works one partition until it has nothing deliverable. */
  private void drain(int partition, String epoch) {
    long versionBefore = streams.wakeups().version(topic.wireName(), partition);
    try {
      PartitionWorker worker = new PartitionWorker(ledger, state, options, topic, handler, classifier, timers,
          partition, epoch, unavailableStreak);
      while (running && worker.deliverOnce()) {
        versionBefore = streams.wakeups().version(topic.wireName(), partition);
      }
      idleSince.put(partition, new long[] {versionBefore, monotonicMillis()});
    } catch (PartitionLeaseLostException e) {
      log.info("{}", e.getMessage());
    } catch (RuntimeException e) {
      log.warn("consumer {} partition {}: {}", options.group(), partition, e.getMessage());
    } finally {
      busy.remove(partition);
    }
  }

  /**
   * Heartbeat cadence and idle back-off are intervals on this host: a monotonic count, so a wall clock
   * stepped back cannot stall the heartbeat until the partitions lapse (their expiry is ledger time).
   */
  private static long monotonicMillis() {
    return System.nanoTime() / 1_000_000;
  }

  private static void sleepQuietly(Duration d) {
    try {
      Thread.sleep(d.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** Stops leasing, lets in-flight messages finish (up to {@code grace}), and hands the partitions back. */
  public void close(Duration grace) {
    running = false;
    coordinator.interrupt();
    workers.shutdown();
    try {
      workers.awaitTermination(grace.toMillis(), TimeUnit.MILLISECONDS);
      coordinator.join(grace.toMillis());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    workers.shutdownNow();
    timers.shutdownNow();
    try {
      ledger.transact(tx -> {
        state.leave(tx, options.memberId());
        return null;
      });
    } catch (RuntimeException e) {
      log.warn("consumer {} could not hand back its partitions: {}", options.group(), e.getMessage());
    }
  }

  @Override
  public void close() {
    close(Duration.ofSeconds(10));
  }
}
