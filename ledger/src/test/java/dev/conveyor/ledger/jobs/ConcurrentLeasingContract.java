package dev.conveyor.ledger.jobs;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.LedgerOptions;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.ledger.testing.LedgerReset;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;

/**
 * Many holders on two independent ledger pools (as two nodes would be) lease and complete
 * every job: each is completed exactly once, never held by two holders at once, and nothing
 * is left running.
 */
public abstract class ConcurrentLeasingContract {
  private static final int THREADS_PER_LEDGER = 8;

  protected abstract String ledgerUrl();

  protected abstract int jobCount();

  @Test
  void everyJobIsCompletedExactlyOnceWithNoOverlappingHolders() throws Exception {
    try (Ledger nodeA = open(); Ledger nodeB = open()) {
      LedgerReset.truncateAll(nodeA);
      List<JobSpec> specs = new ArrayList<>();
      for (int i = 0; i < jobCount(); i++) {
        specs.add(JobSpec.builder(JobKind.BUILD).build());
      }
      for (int from = 0; from < specs.size(); from += 500) {
        nodeA.jobs().enqueueAll(specs.subList(from, Math.min(specs.size(), from + 500)));
      }

      Map<String, String> currentHolder = new ConcurrentHashMap<>();
      Map<String, List<String>> epochsByJob = new ConcurrentHashMap<>();
      AtomicInteger completions = new AtomicInteger();
      List<String> violations = Collections.synchronizedList(new ArrayList<>());

      ExecutorService pool = Executors.newFixedThreadPool(THREADS_PER_LEDGER * 2);
      List<Future<?>> workers = new ArrayList<>();
      for (int t = 0; t < THREADS_PER_LEDGER * 2; t++) {
        Ledger node = t % 2 == 0 ? nodeA : nodeB;
        String executor = "worker-" + t;
        workers.add(pool.submit(() -> {
          LeaseRequest req = LeaseRequest.of(executor, Set.of(JobKind.BUILD), Duration.ofMinutes(10));
          while (true) {
            var grant = node.jobs().leaseOne(req);
            if (grant.isEmpty()) {
              return null;
            }
            LeaseGrant g = grant.get();
            String previous = currentHolder.putIfAbsent(g.job().id(), g.epoch());
            if (previous != null) {
              violations.add(g.job().id() + " leased under " + g.epoch() + " while " + previous + " held it");
            }
            epochsByJob.computeIfAbsent(g.job().id(), k -> Collections.synchronizedList(new ArrayList<>()))
                .add(g.epoch());
            currentHolder.remove(g.job().id(), g.epoch());
            var done = node.jobs().complete(g.job().id(), g.epoch(), new Completion.Succeeded(null));
            if (done.state() == JobState.SUCCEEDED && !done.replayed()) {
              completions.incrementAndGet();
            }
          }
        }));
      }
      for (Future<?> w : workers) {
        w.get(5, TimeUnit.MINUTES);
      }
      pool.shutdown();

      assertThat(violations).isEmpty();
      assertThat(completions.get()).isEqualTo(jobCount());
      assertThat(epochsByJob).hasSize(jobCount());
      assertThat(epochsByJob.values()).allSatisfy(epochs -> assertThat(epochs).hasSize(1));
      long distinctEpochs = epochsByJob.values().stream().flatMap(List::stream).distinct().count();
      assertThat(distinctEpochs).isEqualTo(jobCount());
      long succeeded = nodeA.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE state = 'SUCCEEDED'"));
      long other = nodeA.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE state <> 'SUCCEEDED'"));
      assertThat(succeeded).isEqualTo(jobCount());
      assertThat(other).isZero();
    }
  }

  private Ledger open() {
    return Ledger.open(LedgerOptions.defaults(ledgerUrl()).withPoolSize(THREADS_PER_LEDGER));
  }
}
