package dev.conveyor.messagequeue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.LedgerOptions;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.jobs.RetryPolicy;
import dev.conveyor.ledger.testing.ChildJvm;
import dev.conveyor.ledger.testing.PostgresDatabase;
import dev.conveyor.messagequeue.consume.Consumer;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.messagequeue.effects.ClaimResult;
import dev.conveyor.messagequeue.effects.EffectClaims;
import dev.conveyor.messagequeue.stream.Streams;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two nodes on one PostgreSQL database. Node A (a child JVM, correct clock) holds jobs, consumer-group
 * partitions and an effect claim and keeps renewing them; node B's host clock is ten minutes ahead and
 * it reaps, leases, claims and rebalances all the time. B takes nothing while A renews — on its own
 * clock every one of A's leases would have lapsed long ago — and takes everything once A is killed,
 * but only after the leases run out.
 */
class PostgresClockSkewTest {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();
  private static final int JOBS = 6;
  private static final int PARTITIONS = 8;
  private static final Duration AHEAD = Duration.ofMinutes(10);

  @Test
  void aNodeTenMinutesAheadTakesNothingFromALiveNodeAndEverythingOnceItDies() throws Exception {
    try (Ledger setup = Ledger.open(pg.url())) {
      for (int i = 0; i < JOBS; i++) {
        setup.jobs().enqueue(JobSpec.builder(JobKind.BUILD).build());
      }
    }
    RetryPolicy quick = new RetryPolicy(Duration.ofMillis(100), 1.0, Duration.ofMillis(100), Duration.ofMillis(100));
    LedgerOptions nodeB = LedgerOptions.defaults(pg.url()).withHostClock(Clock.offset(Clock.systemUTC(), AHEAD))
        .withRetryPolicy(quick);
    try (ChildJvm a = ChildJvm.start(ClockSkewNode.class, pg.url(), "node-a", String.valueOf(JOBS));
        Ledger b = Ledger.open(nodeB);
        Streams streams = new Streams(b, StreamsTestBase.registry())) {
      a.awaitLine(("HOLDING " + JOBS)::equals, Duration.ofSeconds(60));
      await().atMost(Duration.ofSeconds(30)).until(() -> partitions(b, "node-a").size() == PARTITIONS);
      assertThat(b.hostClockSkew()).as("node B's host clock is ahead").isGreaterThan(AHEAD.minusSeconds(5));

      try (Greedy greedy = new Greedy(b, streams)) {
        // Joining, B gets its fair share because A hands it over: a release, not a takeover.
        await().atMost(Duration.ofSeconds(30))
            .failFast("node B took over partitions node A renews", () -> takeovers(b) > 0)
            .until(() -> greedy.consumer.ownedPartitions().size() == PARTITIONS / 2
            && partitions(b, "node-a").size() == PARTITIONS / 2);
        Map<String, String> jobsOfA = jobLeases(b);
        Map<Integer, String> partitionsOfA = partitions(b, "node-a");
        String claimOfA = claim(b);
        assertThat(jobsOfA).hasSize(JOBS).allSatisfy((id, lease) -> assertThat(lease).startsWith("node-a/"));
        assertThat(claimOfA).startsWith("node-a/");

        await("node B takes nothing from a node that renews").during(Duration.ofSeconds(12))
            .atMost(Duration.ofSeconds(15)).pollInterval(Duration.ofMillis(200)).untilAsserted(() -> {
              assertThat(jobLeases(b)).isEqualTo(jobsOfA);
              assertThat(partitions(b, "node-a")).isEqualTo(partitionsOfA);
              assertThat(claim(b)).isEqualTo(claimOfA);
              assertThat(takeovers(b)).isZero();
              assertThat(greedy.leased).isEmpty();
              assertThat(greedy.reaped).hasValue(0);
              assertThat(greedy.claimedAt).hasValue(0);
              assertThat(greedy.errors).isEmpty();
              assertThat(greedy.rounds.get()).isPositive();
            });
        assertThat(a.printed()).noneMatch(line -> line.startsWith("LOST") || line.startsWith("ERROR"));

        long killed = System.nanoTime();
        a.kill();
        await("node B takes over once A's leases run out").atMost(Duration.ofSeconds(60))
            .until(() -> greedy.leased.size() == JOBS && greedy.tookPartitionsAt.get() != 0
                && greedy.consumer.ownedPartitions().size() == PARTITIONS && greedy.claimedAt.get() != 0);
        assertThat(takeovers(b)).isEqualTo(PARTITIONS / 2);
        // A renewed its jobs and claim every 0.5 s and heartbeat its partitions every 2 s, all with 6 s
        // leases: nothing of it can lapse sooner than 5.5 s (jobs, claim) or 4 s (partitions) after the kill.
        assertThat(sinceKill(killed, greedy.leased.values().stream().mapToLong(Long::longValue).min().orElseThrow()))
            .isGreaterThan(Duration.ofSeconds(5));
        assertThat(sinceKill(killed, greedy.claimedAt.get())).isGreaterThan(Duration.ofSeconds(5));
        assertThat(sinceKill(killed, greedy.tookPartitionsAt.get())).isGreaterThan(Duration.ofMillis(3_500));
        assertThat(greedy.errors).isEmpty();
      }
    }
  }

  private static Duration sinceKill(long killed, long at) {
    return Duration.ofNanos(at - killed);
  }

  /** Node B: a group member, and a loop that reaps, leases and claims every 100 ms. */
  private static final class Greedy implements AutoCloseable {
    final Consumer consumer;
    final Map<String, Long> leased = new ConcurrentHashMap<>();
    final AtomicInteger reaped = new AtomicInteger();
    final AtomicLong claimedAt = new AtomicLong();
    final AtomicLong tookPartitionsAt = new AtomicLong();
    final AtomicInteger rounds = new AtomicInteger();
    final List<Throwable> errors = new CopyOnWriteArrayList<>();
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor();

    Greedy(Ledger ledger, Streams streams) {
      consumer = streams.consume(StreamsTestBase.ORDERS, ClockSkewNode.member("node-b"), delivery -> Outcome.ack());
      EffectClaims claims = new EffectClaims(ledger);
      loop.scheduleWithFixedDelay(() -> {
        try {
          reaped.addAndGet(ledger.jobs().reapExpired(100));
          for (LeaseGrant g : ledger.jobs().lease(LeaseRequest.of("node-b", Set.of(JobKind.BUILD),
              ClockSkewNode.LEASE).withMaxJobs(JOBS))) {
            leased.putIfAbsent(g.job().id(), System.nanoTime());
          }
          if (claimedAt.get() == 0 && claims.claim(ClockSkewNode.SCOPE, ClockSkewNode.EFFECT, "node-b",
              ClockSkewNode.LEASE) instanceof ClaimResult.Acquired) {
            claimedAt.set(System.nanoTime());
          }
          if (consumer.ownedPartitions().size() > PARTITIONS / 2) {
            tookPartitionsAt.compareAndSet(0, System.nanoTime());
          }
          rounds.incrementAndGet();
        } catch (Throwable t) {
          errors.add(t);
        }
      }, 0, 100, TimeUnit.MILLISECONDS);
    }

    @Override
    public void close() throws InterruptedException {
      loop.shutdownNow();
      loop.awaitTermination(10, TimeUnit.SECONDS);
      consumer.close(Duration.ofSeconds(5));
    }
  }

  /** Job id to "owner/epoch" of every job. */
  private static Map<String, String> jobLeases(Ledger l) {
    return l.transact(tx -> tx.query("SELECT id, lease_owner, lease_epoch FROM jobs",
        rs -> Map.entry(rs.getString(1), rs.getString(2) + "/" + rs.getString(3))))
        .stream().collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (x, y) -> x, TreeMap::new));
  }

  /** Partition to lease epoch of the partitions {@code owner} holds. */
  private static Map<Integer, String> partitions(Ledger l, String owner) {
    return l.transact(tx -> tx.query("SELECT partition_no, lease_epoch FROM mq_group_partitions"
        + " WHERE group_name = ? AND owner = ?", rs -> Map.entry(rs.getInt(1), rs.getString(2)), ClockSkewNode.GROUP,
        owner)).stream().collect(Collectors.toMap(Map.Entry::getKey, Map.Entry::getValue, (x, y) -> x, TreeMap::new));
  }

  private static long takeovers(Ledger l) {
    return l.transact(tx -> tx.queryLong("SELECT COALESCE(SUM(takeovers), 0) FROM mq_group_partitions"
        + " WHERE group_name = ?", ClockSkewNode.GROUP));
  }

  /** "holder/token" of the effect claim. */
  private static String claim(Ledger l) {
    return l.transact(tx -> tx.queryOne("SELECT holder, token FROM effect_claims WHERE scope = ? AND effect_key = ?",
        rs -> rs.getString(1) + "/" + rs.getString(2), ClockSkewNode.SCOPE, ClockSkewNode.EFFECT).orElseThrow());
  }
}
