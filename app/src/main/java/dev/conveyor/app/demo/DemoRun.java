package dev.conveyor.app.demo;

import dev.conveyor.ledger.Hashing;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.Completion.Disposition;
import dev.conveyor.ledger.jobs.JobErrors.LeaseLostException;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobProgress;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.messagequeue.consume.Consumer;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.messagequeue.stream.IntentId;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicKey;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/** One demo run: planner, two workers and a reaper, against a real ledger and the wall clock. */
final class DemoRun {
  private static final int STEPS = 4;
  static final TopicKey EVENTS = TopicKey.of("demo.job_events");
  static final String EVENTS_WIRE = "demo-job-events";

  private final Ledger ledger;
  private final int groups;
  private final Duration lease;
  private final PrintStream out;
  private final AtomicBoolean abandonedOne = new AtomicBoolean();
  private final AtomicBoolean failedOnce = new AtomicBoolean();
  private final AtomicInteger completed = new AtomicInteger();
  private final AtomicInteger reclaimed = new AtomicInteger();
  private final AtomicInteger audited = new AtomicInteger();
  private final Streams streams;

  DemoRun(Ledger ledger, Streams streams, int groups, Duration lease, PrintStream out) {
    this.ledger = ledger;
    this.streams = streams;
    this.groups = groups;
    this.lease = lease;
    this.out = out;
  }

  String execute() throws Exception {
    String root = ledger.jobs().enqueue(JobSpec.builder(JobKind.PLAN_SNAPSHOT)
        .payload("demo table, snapshot 1".getBytes(StandardCharsets.UTF_8)).build()).jobId();
    say("planner", "enqueued capture plan " + root);
    plan(root);

    Consumer audit = streams.consume(EVENTS, ConsumerOptions.defaults("demo-audit", "audit-1"), d -> {
          audited.incrementAndGet();
          say("audit", "event #" + d.message().seq() + ": " + new String(d.payload(), StandardCharsets.UTF_8));
          return Outcome.ack();
        });
    ExecutorService pool = Executors.newFixedThreadPool(3);
    List<Future<?>> tasks = new ArrayList<>();
    tasks.add(pool.submit(() -> work("worker-a", root, false)));
    tasks.add(pool.submit(() -> work("worker-b", root, true)));
    tasks.add(pool.submit(() -> reap(root)));
    try {
      for (Future<?> t : tasks) {
        t.get(2, TimeUnit.MINUTES);
      }
    } finally {
      pool.shutdownNow();
    }
    long published = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM mq_messages WHERE topic = ?",
        EVENTS_WIRE));
    long deadline = System.currentTimeMillis() + 10_000;
    while (audited.get() < published && System.currentTimeMillis() < deadline) {
      TimeUnit.MILLISECONDS.sleep(20);
    }
    audit.close(Duration.ofSeconds(5));
    return root;
  }

  String summary() {
    return completed.get() + " file groups completed, " + reclaimed.get() + " abandoned lease(s) reclaimed, "
        + (failedOnce.get() ? "1 retry after a transient failure" : "no retries") + ", " + audited.get()
        + " job events delivered to the audit consumer";
  }

  private void plan(String root) {
    LeaseGrant planner = ledger.jobs()
        .leaseOne(LeaseRequest.of("planner", Set.of(JobKind.PLAN_SNAPSHOT), lease)).orElseThrow();
    List<JobSpec> children = new ArrayList<>();
    for (int i = 0; i < groups; i++) {
      children.add(JobSpec.builder(JobKind.EXEC_FILE_GROUP).maxAttempts(3)
          .payload(("group-" + i).getBytes(StandardCharsets.UTF_8)).build());
    }
    ledger.jobs().fanOut(root, planner.epoch(), children);
    ledger.jobs().complete(root, planner.epoch(), new Completion.Succeeded("planned " + groups + " groups"));
    say("planner", "fanned out " + groups + " file groups; plan is WAITING on them");
  }

  private Void work(String me, String root, boolean abandonsOne) throws InterruptedException {
    LeaseRequest req = LeaseRequest.of(me, Set.of(JobKind.EXEC_FILE_GROUP), lease);
    while (!ledger.jobs().get(root).state().isTerminal()) {
      var grant = ledger.jobs().leaseOne(req);
      if (grant.isEmpty()) {
        TimeUnit.MILLISECONDS.sleep(50); // idle poll; the demo keeps the loop simple
        continue;
      }
      LeaseGrant g = grant.get();
      String group = new String(g.job().payload(), StandardCharsets.UTF_8);
      ledger.jobs().start(g.job().id(), g.epoch());
      say(me, "leased " + group + " (attempt " + g.job().attempts() + ")");
      try {
        if (!runSteps(me, g, group, abandonsOne)) {
          continue; // abandoned: this worker never touches the job again
        }
        finish(me, g, group);
      } catch (LeaseLostException e) {
        say(me, "lost the lease on " + group + ": " + e.getMessage());
      }
    }
    return null;
  }

  /** Works through the steps with progress heartbeats; false when this worker abandons the group. */
  private boolean runSteps(String me, LeaseGrant g, String group, boolean abandonsOne) throws InterruptedException {
    for (int step = 1; step <= STEPS; step++) {
      TimeUnit.MILLISECONDS.sleep(60);
      if (abandonsOne && step == 2 && abandonedOne.compareAndSet(false, true)) {
        say(me, "stops heartbeating " + group + " mid-work (as if its process died)");
        return false;
      }
      ledger.jobs().progress(g.job().id(), g.epoch(), new JobProgress(step, STEPS, 0, step * 1024L, group), lease);
    }
    return true;
  }

  private void finish(String me, LeaseGrant g, String group) {
    byte[] digest = Hashing.sha256Hex(group).getBytes(StandardCharsets.UTF_8);
    ledger.jobs().recordResult(g.job().id(), g.epoch(), g.job().id() + ":success", digest, digest);
    if (group.equals("group-1") && failedOnce.compareAndSet(false, true)) {
      completeAndAnnounce(g, group, new Completion.Failed("transient read error", Disposition.RETRYABLE));
      say(me, group + " failed transiently; it will be retried after backoff");
      return;
    }
    JobState s = completeAndAnnounce(g, group, new Completion.Succeeded(null));
    completed.incrementAndGet();
    say(me, "completed " + group + " → " + s);
  }

  /** The completion and the event it causes commit together: the transactional outbox. */
  private JobState completeAndAnnounce(LeaseGrant g, String group, Completion completion) {
    return ledger.transact(tx -> {
      JobState state = ledger.jobs().complete(tx, g.job().id(), g.epoch(), completion).state();
      String event = group + " (job " + g.job().id() + ", attempt " + g.job().attempts() + ") -> " + state;
      streams.publisher().publish(tx, EVENTS, g.job().rootId(), IntentId.of(g.job().id(), "completed-" + g.epoch()),
          event.getBytes(StandardCharsets.UTF_8));
      return state;
    });
  }

  private Void reap(String root) throws InterruptedException {
    while (!ledger.jobs().get(root).state().isTerminal()) {
      int n = ledger.jobs().reapExpired(100);
      if (n > 0) {
        reclaimed.addAndGet(n);
        say("reaper", "reclaimed " + n + " expired lease(s); the job is queued again");
      }
      TimeUnit.MILLISECONDS.sleep(100);
    }
    return null;
  }

  private synchronized void say(String who, String what) {
    out.printf("  %-9s %s%n", who, what);
  }
}
