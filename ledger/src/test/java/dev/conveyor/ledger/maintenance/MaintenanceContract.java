package dev.conveyor.ledger.maintenance;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobRetention;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.maintenance.LeaderLease.Following;
import dev.conveyor.ledger.maintenance.LeaderLease.Leading;
import dev.conveyor.ledger.testing.LedgerTestBase;
import java.nio.charset.StandardCharsets;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Maintenance on every backend, with the hand-moved clock: one leader at a time, only it reaps,
 * job retention keeps what is referenced, and a run interrupted between batches leaves a consistent
 * ledger that the next run finishes.
 */
public abstract class MaintenanceContract extends LedgerTestBase {
  private static final Duration LEASE = Duration.ofSeconds(30);
  private static final Duration AGE = Duration.ofDays(7);
  private static final Maintenance.Options OPTIONS = Maintenance.Options.defaults().withLease(LEASE);

  private Maintenance node(String holder, List<RetentionTask> tasks, Maintenance.Options options) {
    return new Maintenance(ledger, holder, tasks, options, Maintenance.Observer.NONE);
  }

  private JobRetention jobRetention() {
    return new JobRetention(AGE, List.of("SELECT id FROM jobs WHERE dedupe_key = 'pinned'"));
  }

  private long count(String sql) {
    return ledger.transact(tx -> tx.queryLong(sql));
  }

  /** A PLAN_SNAPSHOT root with {@code n} file groups; {@code finish} of them succeed (with a result each). */
  private String tree(int n, int finish) {
    String root = ledger.jobs().enqueue(JobSpec.builder(JobKind.PLAN_SNAPSHOT).build()).jobId();
    LeaseGrant planner = ledger.jobs().leaseOne(LeaseRequest.of("planner", Set.of(JobKind.PLAN_SNAPSHOT), LEASE))
        .orElseThrow();
    ledger.jobs().recordResult(root, planner.epoch(), "plan", new byte[] {1}, new byte[] {2});
    ledger.jobs().fanOut(root, planner.epoch(), java.util.stream.IntStream.range(0, n).mapToObj(i ->
        JobSpec.builder(JobKind.EXEC_FILE_GROUP).payload(("g" + i).getBytes(StandardCharsets.UTF_8)).build()).toList());
    ledger.jobs().complete(root, planner.epoch(), new Completion.Succeeded(null));
    List<LeaseGrant> groups = ledger.jobs().lease(LeaseRequest.of("capture", Set.of(JobKind.EXEC_FILE_GROUP), LEASE)
        .withMaxJobs(finish));
    for (LeaseGrant g : groups) {
      ledger.jobs().recordResult(g.job().id(), g.epoch(), "r", new byte[] {1}, new byte[] {2});
      ledger.jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
    }
    return root;
  }

  private String single(String dedupeKey) {
    String id = ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).dedupeKey(dedupeKey).build()).jobId();
    LeaseGrant g = ledger.jobs().leaseOne(LeaseRequest.of("builder", Set.of(JobKind.BUILD), LEASE)).orElseThrow();
    ledger.jobs().complete(id, g.epoch(), new Completion.Succeeded(null));
    return id;
  }

  /** Every stored job's parent and root exist, and every result belongs to a stored job. */
  private void assertConsistent() {
    assertThat(count("SELECT COUNT(*) FROM jobs j WHERE j.parent_id IS NOT NULL AND NOT EXISTS"
        + " (SELECT 1 FROM jobs p WHERE p.id = j.parent_id)")).as("jobs whose parent is gone").isZero();
    assertThat(count("SELECT COUNT(*) FROM jobs j WHERE NOT EXISTS (SELECT 1 FROM jobs r WHERE r.id = j.root_id)"))
        .as("jobs whose root is gone").isZero();
    assertThat(count("SELECT COUNT(*) FROM job_results r WHERE NOT EXISTS (SELECT 1 FROM jobs j WHERE j.id = r.job_id)"))
        .as("results whose job is gone").isZero();
  }

  @Test
  void finishedTreesGoAfterTheirAgeWhileARunningTreesFinishedChildrenStay() {
    String done = tree(3, 3);
    String running = tree(3, 2); // one file group still queued: the root waits
    String build = single("b-1");
    String pinned = single("pinned"); // a module's keep query names it
    assertThat(ledger.jobs().get(done).state()).isEqualTo(JobState.SUCCEEDED);
    assertThat(ledger.jobs().get(running).state()).isEqualTo(JobState.WAITING);
    Maintenance m = node("n1", List.of(jobRetention()), OPTIONS);
    assertThat(m.lead()).isInstanceOf(Leading.class);

    clock.advance(AGE.minusMinutes(1));
    m.lead();
    assertThat(m.dryRun().byTable()).containsEntry("jobs", 0L);
    assertThat(m.runRetention().byTable()).isEmpty(); // nothing is old enough yet
    assertThat(count("SELECT COUNT(*) FROM jobs")).isEqualTo(10);

    clock.advance(Duration.ofMinutes(2));
    m.lead();
    assertThat(m.dryRun().byTable()).containsEntry("jobs", 5L).containsEntry("job_results", 4L);
    RetentionReport report = m.runRetention();
    assertThat(report.byTable()).containsEntry("jobs", 5L).containsEntry("job_results", 4L);
    assertThat(ledger.jobs().find(done)).isEmpty();
    assertThat(ledger.jobs().find(build)).isEmpty();
    assertThat(ledger.jobs().find(pinned)).isPresent();
    assertThat(ledger.jobs().tree(running).children()).hasSize(3); // its finished children stay with it
    assertThat(count("SELECT COUNT(*) FROM job_results")).isEqualTo(3); // the running tree's
    assertConsistent();
  }

  @Test
  void aRunInterruptedBetweenBatchesLeavesAConsistentLedgerAndTheNextRunFinishes() {
    String root = tree(25, 25);
    single("b-1");
    clock.advance(AGE.plusHours(1));
    AtomicInteger batches = new AtomicInteger();
    JobRetention real = jobRetention();
    RetentionTask failsAfterOneBatch = new RetentionTask() {
      @Override
      public String name() {
        return real.name();
      }

      @Override
      public Duration age() {
        return real.age();
      }

      @Override
      public Map<String, Long> due(dev.conveyor.ledger.Tx tx, Instant now) throws SQLException {
        return real.due(tx, now);
      }

      @Override
      public void collect(Instant now, Batches b) {
        real.collect(now, new Batches() {
          @Override
          public int limit() {
            return b.limit();
          }

          @Override
          public boolean run(Batch batch) {
            if (batches.incrementAndGet() > 1) {
              throw new IllegalStateException("the node died between batches");
            }
            return b.run(batch);
          }
        });
      }
    };
    Maintenance interrupted = node("n1", List.of(failsAfterOneBatch), OPTIONS.withBatchSize(10));
    interrupted.lead();
    RetentionReport first = interrupted.runRetention();
    assertThat(first.failed()).isTrue();
    assertThat(first.byTable()).containsEntry("jobs", 10L); // one whole batch, no more
    assertThat(count("SELECT COUNT(*) FROM jobs")).isEqualTo(27 - 10);
    assertThat(ledger.jobs().find(root)).isPresent(); // leaves first: the root goes last
    assertConsistent();

    interrupted.close();
    Maintenance next = node("n2", List.of(jobRetention()), OPTIONS.withBatchSize(10));
    next.lead();
    RetentionReport second = next.runRetention();
    assertThat(second.failed()).isFalse();
    assertThat(second.byTable()).containsEntry("jobs", 17L);
    assertThat(count("SELECT COUNT(*) FROM jobs")).isZero();
    assertThat(count("SELECT COUNT(*) FROM job_results")).isZero();
  }

  @Test
  void oneLeaderAtATimeAndASilentLeaderIsReplacedAfterItsLease() {
    Maintenance a = node("node-a", List.of(jobRetention()), OPTIONS);
    Maintenance b = node("node-b", List.of(jobRetention()), OPTIONS);
    assertThat(a.lead()).isInstanceOfSatisfying(Leading.class, l -> assertThat(l.elected()).isTrue());
    assertThat(b.lead()).isInstanceOfSatisfying(Following.class, f -> assertThat(f.holder()).isEqualTo("node-a"));
    clock.advance(LEASE.dividedBy(2));
    assertThat(a.lead()).isInstanceOfSatisfying(Leading.class, l -> assertThat(l.elected()).isFalse()); // renewed
    assertThat(b.lead()).isInstanceOf(Following.class);

    // a stops renewing (killed): b follows until a's lease has run out, then leads
    clock.advance(LEASE.minusMillis(1));
    assertThat(b.lead()).isInstanceOf(Following.class);
    assertThat(b.leading()).isFalse();
    clock.advance(Duration.ofMillis(1));
    assertThat(b.lead()).isInstanceOfSatisfying(Leading.class, l -> assertThat(l.elected()).isTrue());
    // the old leader's term is fenced: its batches are refused, and it follows
    assertThatThrownBy(a::runRetention).isInstanceOf(LeaderLease.NotLeaderException.class)
        .hasMessageContaining("node-b");
    assertThat(a.lead()).isInstanceOf(Following.class);

    b.close(); // a clean stop hands over at once
    assertThat(a.lead()).isInstanceOf(Leading.class);
    assertThat(a.leader()).hasValueSatisfying(h -> assertThat(h.holder()).isEqualTo("node-a"));
  }

  @Test
  void onlyTheLeaderReapsExpiredLeases() {
    String id = ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).build()).jobId();
    ledger.jobs().leaseOne(LeaseRequest.of("vanished", Set.of(JobKind.BUILD), Duration.ofSeconds(1))).orElseThrow();
    Maintenance leader = node("node-a", List.of(), OPTIONS);
    Maintenance follower = node("node-b", List.of(), OPTIONS);
    assertThat(leader.lead()).isInstanceOf(Leading.class);
    clock.advance(Duration.ofSeconds(2));
    assertThat(follower.lead()).isInstanceOf(Following.class);
    assertThat(ledger.jobs().get(id).state()).isEqualTo(JobState.RUNNING);
    leader.lead();
    assertThat(ledger.jobs().get(id).state()).isEqualTo(JobState.QUEUED);
  }

  @Test
  void anOperatorRunTakesFreeLeadershipAndGivesItBackButNeverRunsBesideALeader() {
    single("b-1");
    clock.advance(AGE.plusSeconds(1));
    Maintenance serve = node("serve-1", List.of(jobRetention()), OPTIONS);
    Maintenance admin = node("admin-1", List.of(jobRetention()), OPTIONS);
    serve.lead();
    assertThat(admin.runOnceIfFree()).isEmpty();
    assertThat(count("SELECT COUNT(*) FROM jobs")).isEqualTo(1);
    serve.close();
    assertThat(admin.runOnceIfFree()).hasValueSatisfying(r -> assertThat(r.byTable()).containsEntry("jobs", 1L));
    assertThat(admin.leader()).hasValueSatisfying(h -> assertThat(h.expiresAt()).isBeforeOrEqualTo(clock.instant()));
    assertThat(serve.lead()).isInstanceOf(Leading.class); // released: the node leads again at once
  }
}
