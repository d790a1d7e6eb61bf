package dev.conveyor.bench.soak;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.messagequeue.consume.Consumer;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.messagequeue.stream.Outgoing;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import java.time.Duration;
import java.util.ArrayList;
import java.util.BitSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The library half of the mix, on the same ledger serve uses: no-op leased jobs (enqueued, leased one
 * at a time and completed, as a worker does) and messages on 16 partitions consumed by one group, one
 * in a hundred rejected into the dead-letter topic. The jobs are pinned to this driver and of their
 * own execution class, so serve's build worker never takes them.
 */
final class LedgerLoad implements AutoCloseable {
  private static final String EXECUTOR = "soak-driver";
  private static final TopicKey TOPIC = TopicKey.of("soak.events");
  private static final int POISON_EVERY = 100;

  private final Ledger ledger;
  private final Streams streams;
  private final int jobsPerSecond;
  private final int messagesPerSecond;
  private final AtomicBoolean submitting = new AtomicBoolean(true);
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final AtomicLong enqueued = new AtomicLong();
  private final AtomicLong completed = new AtomicLong();
  private final AtomicLong published = new AtomicLong();
  private final BitSet seen = new BitSet();
  private final AtomicLong rejected = new AtomicLong();
  private final List<Thread> threads = new ArrayList<>();
  private final List<String> errors = new ArrayList<>();
  private Consumer consumer;

  LedgerLoad(Ledger ledger, int jobsPerSecond, int messagesPerSecond) {
    this.ledger = ledger;
    this.jobsPerSecond = jobsPerSecond;
    this.messagesPerSecond = messagesPerSecond;
    this.streams = new Streams(ledger, TopicRegistry.builder()
        .register(TOPIC, TopicConfig.defaults("soak.events").withPartitions(16)).build());
  }

  LedgerLoad start() {
    consumer = streams.consume(TOPIC, ConsumerOptions.defaults("soak", EXECUTOR).withParallelism(4), d -> {
          int n = Integer.parseInt(d.message().messageId().substring(2));
          synchronized (seen) {
            seen.set(n);
          }
          if (n % POISON_EVERY == 0) {
            rejected.incrementAndGet();
            return Outcome.reject("poison message " + n + " (every " + POISON_EVERY + "th is one)");
          }
          return Outcome.ack();
        });
    thread("soak-enqueue", this::enqueueTick);
    thread("soak-publish", this::publishTick);
    thread("soak-worker-1", this::workTick);
    thread("soak-worker-2", this::workTick);
    return this;
  }

  private void thread(String name, Tick tick) {
    Thread t = new Thread(() -> {
      while (running.get()) {
        try {
          tick.run();
        } catch (InterruptedException e) {
          return;
        } catch (RuntimeException e) {
          synchronized (errors) {
            errors.add(name + ": " + e);
          }
          pause(1000);
        }
      }
    }, name);
    t.setDaemon(true);
    t.start();
    threads.add(t);
  }

  private interface Tick {
    void run() throws InterruptedException;
  }

  /** Every 100 ms, a tenth of a second's jobs in one transaction. */
  private void enqueueTick() throws InterruptedException {
    if (submitting.get()) {
      List<JobSpec> specs = new ArrayList<>();
      for (int i = 0; i < Math.max(1, jobsPerSecond / 10); i++) {
        specs.add(JobSpec.builder(JobKind.BUILD).executionClass("soak").pinnedExecutorId(EXECUTOR).build());
      }
      ledger.jobs().enqueueAll(specs);
      enqueued.addAndGet(specs.size());
    }
    Thread.sleep(100);
  }

  private void publishTick() throws InterruptedException {
    if (submitting.get()) {
      List<Outgoing> batch = new ArrayList<>();
      for (int i = 0; i < Math.max(1, messagesPerSecond / 10); i++) {
        long n = published.getAndIncrement();
        batch.add(new Outgoing(TOPIC, "key-" + (n % 97), "m-" + n, new byte[64]));
      }
      ledger.transact(tx -> streams.publisher().publishAll(tx, batch));
    }
    Thread.sleep(100);
  }

  private void workTick() throws InterruptedException {
    LeaseRequest request = LeaseRequest.of(EXECUTOR, Set.of(JobKind.BUILD), Duration.ofMinutes(1))
        .withExecutionClasses(Set.of("soak")).withExecutorIds(Set.of(EXECUTOR));
    Optional<LeaseGrant> grant = ledger.jobs().leaseOne(request);
    if (grant.isEmpty()) {
      Thread.sleep(50);
      return;
    }
    ledger.jobs().complete(grant.get().job().id(), grant.get().epoch(), new Completion.Succeeded(null));
    completed.incrementAndGet();
  }

  void stopSubmitting() {
    submitting.set(false);
  }

  /** Whether everything submitted has been worked off. */
  boolean drained() {
    synchronized (seen) {
      return completed.get() >= enqueued.get() && seen.cardinality() >= published.get();
    }
  }

  String counters() {
    synchronized (seen) {
      return String.format("jobs %,d/%,d  messages %,d/%,d (%,d dead-lettered)", completed.get(), enqueued.get(),
          seen.cardinality(), published.get(), rejected.get());
    }
  }

  /** What was lost or went wrong; empty when every job completed and every message was handled. */
  List<String> problems() {
    List<String> problems = new ArrayList<>();
    if (completed.get() < enqueued.get()) {
      problems.add("jobs: " + (enqueued.get() - completed.get()) + " of " + enqueued.get() + " never completed");
    }
    synchronized (seen) {
      if (seen.cardinality() < published.get()) {
        problems.add("messages: " + (published.get() - seen.cardinality()) + " of " + published.get()
            + " never reached the consumer");
      }
    }
    synchronized (errors) {
      errors.stream().limit(5).forEach(e -> problems.add("driver error: " + e));
    }
    return problems;
  }

  private static void pause(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    for (Thread t : threads) {
      t.interrupt();
      t.join(10_000);
    }
    if (consumer != null) {
      consumer.close(Duration.ofSeconds(10));
    }
    streams.close();
  }
}
