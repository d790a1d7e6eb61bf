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
 * One member of a consumer group on one topic. Its process's {@link MemberLiveness} keeps its partition
 * leases alive; a coordinator thread keeps the member's fair share of partitions (rebalancing when
 * membership changes) and hands each held partition that was woken to a worker; a partition is
 * processed by one worker at a time, in order.
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
  /** Per partition: the wake-up version at which its last drain found nothing to deliver. */
  private final Map<Integer, Long> idleSince = new ConcurrentHashMap<>();
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
    streams.liveness().register(this, options.memberId(), options.leaseTtl());
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

  private final java.util.concurrent.atomic.AtomicLong drainsStarted = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong drainsEnded = new java.util.concurrent.atomic.AtomicLong();

  /** How many times a worker started reading a held partition. */
  public long drainsStarted() {
    return drainsStarted.get();
  }

  public long drainsEnded() {
    return drainsEnded.get();
  }

  /** Partitions this member holds right now. */
  public Set<Integer> ownedPartitions() {
    return owned.keySet();
  }

  /** The wake-up key of a group's rebalance announcements (joins and partitions given back). */
  static String rebalanceKey(String group) {
    return "@rebalance:" + group;
  }

  /**
   * Rebalances when this member joins, when the set of live members changed (the liveness heartbeat
   * says so), when a member of the group announced a join or gave partitions back, and otherwise every
   * {@link #REBALANCE_FALLBACK_MS} in case an announcement was missed. Between those it only hands
   * woken partitions to workers: nothing here polls the ledger.
   */
  private void coordinate() {
    String rebalanceKey = rebalanceKey(options.group());
    long lastRebalance = 0;
    long seenMembers = -1;
    long seenAsked = -1;
    boolean joining = true;
    long seen = streams.wakeups().version();
    while (running) {
      try {
        long now = monotonicMillis();
        long members = streams.wakeups().version(MemberLiveness.MEMBERS_CHANGED, 0);
        long asked = streams.wakeups().version(rebalanceKey, 0);
        boolean lost = leaseLost.getAndSet(false);
        if (joining || lost || members != seenMembers || asked != seenAsked
            || now - lastRebalance >= nextRebalanceMs) {
          seenMembers = members;
          seenAsked = asked;
          Set<Integer> busyNow = Set.copyOf(busy);
          boolean join = joining;
          GroupPartitions.Held held = ledger.transact(tx -> {
            GroupPartitions.Held h = state.rebalance(tx, options.memberId(), busyNow, options.leaseTtl().toMillis());
            if (join || h.gaveBack()) {
              streams.publisher().announce(tx, rebalanceKey);
            }
            return h;
          });
          owned = held.partitions();
          headNotBefore.keySet().retainAll(owned.keySet()); // a partition held again starts afresh
          joining = false;
          lastRebalance = now;
          // a busy partition owed to another member is given back once its message is done
          nextRebalanceMs = held.owesMore() ? 200
              : held.deferred() ? options.leaseTtl().toMillis() : REBALANCE_FALLBACK_MS;
        }
        boolean wokenWaiting = submitDrains();
        long untilRebalance = Math.max(1, nextRebalanceMs - (monotonicMillis() - lastRebalance));
        // a woken partition left waiting for a worker is handed one when a drain ends (it nudges)
        seen = streams.wakeups().awaitAfter(seen, Duration.ofMillis(wokenWaiting ? 100 : Math.min(untilRebalance,
            MemberLiveness.MAX_BEAT_MS)));
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException e) {
        log.warn("consumer {} coordinator: {}", options.group(), e.getMessage());
        sleepQuietly(Duration.ofMillis(500));
      }
    }
  }

  /**
   * How long a member goes without rebalancing when nothing asks it to: only a missed announcement needs
   * it (a LISTEN connection that comes back wakes everything anyway).
   */
  static final long REBALANCE_FALLBACK_MS = 300_000;
  private volatile long nextRebalanceMs = REBALANCE_FALLBACK_MS;
  /**
   * When a partition's head, backing off, comes due (this host's monotonic clock): until then no wake-up
   * drains it, or every publish behind the head would cost a transaction and another timer.
   */
  private final java.util.Map<Integer, Long> headNotBefore = new java.util.concurrent.ConcurrentHashMap<>();
  /** A drain found its partition's lease taken: the coordinator rebalances at once. */
  private final java.util.concurrent.atomic.AtomicBoolean leaseLost = new java.util.concurrent.atomic.AtomicBoolean();

  /**
   * Hands held partitions that were woken since their last drain (or never drained) to workers, never
   * more than there are workers (a queued partition would count as busy and could not be handed to a
   * member that joined meanwhile), round-robin so none starves. A partition is woken by a publish here,
   * a NOTIFY from another node, the liveness heartbeat's probe (it has something deliverable), or the
   * timer of a head that backs off. Answers whether a woken partition is left waiting for a worker.
   */
  private boolean submitDrains() {
    java.util.List<Integer> partitions = new java.util.ArrayList<>(owned.keySet());
    if (partitions.isEmpty()) {
      return false;
    }
    java.util.Collections.sort(partitions);
    int start = roundRobin++;
    boolean waiting = false;
    for (int i = 0; i < partitions.size(); i++) {
      int p = partitions.get(Math.floorMod(start + i, partitions.size()));
      Long idle = idleSince.get(p);
      boolean signalled = idle == null || idle != streams.wakeups().version(topic.wireName(), p);
      if (!signalled || busy.contains(p)) {
        continue;
      }
      Long notBefore = headNotBefore.get(p);
      if (notBefore != null && notBefore > monotonicMillis()) {
        continue; // its head backs off: a publish behind it changes nothing, its timer wakes it when due
      }
      String epoch = owned.get(p);
      if (busy.size() >= options.parallelism()) {
        waiting = true;
        continue;
      }
      if (epoch != null && busy.add(p)) {
        try {
          workers.execute(() -> supervisor.once("drain:" + options.group(), () -> drain(p, epoch)));
        } catch (java.util.concurrent.RejectedExecutionException stopping) {
          busy.remove(p); // the member is closing
          return false;
        }
      }
    }
    return waiting;
  }

  /** Works one partition until it has nothing deliverable; a head that backs off is woken when it is due. */
  private void drain(int partition, String epoch) {
    drainsStarted.incrementAndGet();
    long versionBefore = streams.wakeups().version(topic.wireName(), partition);
    try {
      PartitionWorker worker = new PartitionWorker(ledger, state, options, topic, handler, classifier, timers,
          partition, epoch, unavailableStreak);
      while (running && worker.deliverOnce()) {
        versionBefore = streams.wakeups().version(topic.wireName(), partition);
      }
      idleSince.put(partition, versionBefore);
      if (worker.waitMillis() > 0 && running) {
        headNotBefore.put(partition, monotonicMillis() + worker.waitMillis());
        timers.schedule(() -> streams.wakeups().signal(topic.wireName(), partition), worker.waitMillis(),
            TimeUnit.MILLISECONDS);
      } else {
        headNotBefore.remove(partition);
      }
    } catch (PartitionLeaseLostException e) {
      // another member took it (this one paused past its liveness, say): settle who holds what before
      // draining again, or every wake-up would drain it again, and fail again, until the fallback rebalance
      log.info("{}", e.getMessage());
      idleSince.put(partition, versionBefore);
      leaseLost.set(true);
    } catch (RuntimeException e) {
      // not again until something new wakes it (the liveness beat's probe does within a second while
      // work is deliverable): a failing drain must not spin
      log.warn("consumer {} partition {}: {}", options.group(), partition, e.getMessage());
      idleSince.put(partition, versionBefore);
    } finally {
      busy.remove(partition);
      drainsEnded.incrementAndGet();
      streams.wakeups().signal(COORDINATOR_NUDGE); // the coordinator looks again: a woken partition may wait
    }
  }

  /** Wakes coordinators without waking any partition. */
  private static final String COORDINATOR_NUDGE = "@drained";

  /** Rebalance intervals are measured on this host's monotonic clock: a wall clock stepped back cannot stall them. */
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
    MemberLiveness liveness = streams.liveness();
    liveness.unregister(this, options.memberId());
    try {
      ledger.transact(tx -> {
        state.leave(tx, options.memberId());
        if (!liveness.keeps(options.memberId())) {
          liveness.forget(tx, options.memberId());
        }
        streams.publisher().announce(tx, rebalanceKey(options.group())); // the others take over at once
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
