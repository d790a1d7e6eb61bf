package dev.conveyor.ledger.jobs;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.LedgerOptions;
import dev.conveyor.ledger.jobs.Completion.Disposition;
import dev.conveyor.ledger.testing.LedgerTestBase;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import org.junit.jupiter.api.Test;

/**
 * An idle leaser waits for a wake-up, not a poll: a job made ready by another process (a second
 * ledger on PostgreSQL; this one on SQLite, which has no other process to hear) wakes it at once, and a
 * retry due later wakes it when it is due. Each wait here is a minute; the wake-ups must come long before.
 */
public abstract class JobWakeupsContract extends LedgerTestBase {
  private static final Duration IDLE_POLL = Duration.ofMinutes(1);

  /** Where the other process's writes come from: another ledger where other processes can be heard. */
  protected abstract boolean hearsOtherProcesses();

  private CompletableFuture<Void> waitForWork(JobWakeups ready) {
    long seen = ready.version();
    return CompletableFuture.runAsync(() -> {
      try {
        ready.awaitAfter(seen, IDLE_POLL);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    });
  }

  /** Starts hearing other processes and waits until the LISTEN connection is up (it then wakes everyone once). */
  private void listening() {
    JobWakeups ready = ledger.jobs().ready();
    long before = ready.version();
    ledger.signals().acrossProcesses(JobWakeups.CHANNEL);
    if (hearsOtherProcesses()) {
      await().atMost(Duration.ofSeconds(10)).until(() -> ready.version() > before);
    }
  }

  @Test
  void aJobEnqueuedElsewhereWakesAnIdleLeaser() throws Exception {
    assertThat(ledger.jobs().ready().hearsOtherProcesses()).isEqualTo(hearsOtherProcesses());
    try (Ledger other = hearsOtherProcesses()
        ? Ledger.open(LedgerOptions.defaults(ledgerUrl()).withClock(clock).withRetryPolicy(TEST_RETRY)) : null) {
      Ledger writer = other == null ? ledger : other;
      listening();
      CompletableFuture<Void> woken = waitForWork(ledger.jobs().ready());
      long started = System.nanoTime();
      writer.jobs().enqueue(JobSpec.builder(JobKind.BUILD).build());
      await().atMost(Duration.ofSeconds(10)).until(woken::isDone);
      assertThat(Duration.ofNanos(System.nanoTime() - started)).isLessThan(IDLE_POLL.dividedBy(2));
      assertThat(ledger.jobs().leaseOne(LeaseRequest.of("w", Set.of(JobKind.BUILD), Duration.ofSeconds(30))))
          .isPresent();
    }
  }

  @Test
  void aLeaserIsWokenOnlyByTheKindsItLeases() throws Exception {
    try (Ledger other = hearsOtherProcesses()
        ? Ledger.open(LedgerOptions.defaults(ledgerUrl()).withClock(clock).withRetryPolicy(TEST_RETRY)) : null) {
      Ledger writer = other == null ? ledger : other;
      listening();
      JobWakeups.Waiting builds = ledger.jobs().ready().of(Set.of(JobKind.BUILD));
      JobWakeups.Waiting captures = ledger.jobs().ready().of(Set.of(JobKind.EXEC_FILE_GROUP));
      long buildsSeen = builds.version();
      long capturesSeen = captures.version();
      writer.jobs().enqueue(JobSpec.builder(JobKind.EXEC_FILE_GROUP).build());
      await().atMost(Duration.ofSeconds(10)).until(() -> captures.version() > capturesSeen);
      assertThat(builds.version()).as("a build worker is not woken by a capture job").isEqualTo(buildsSeen);
      writer.jobs().enqueue(JobSpec.builder(JobKind.BUILD).build());
      await().atMost(Duration.ofSeconds(10)).until(() -> builds.version() > buildsSeen);
    }
  }

  @Test
  void aRetryDueLaterWakesTheLeaserWhenItIsDue() throws Exception {
    String id = ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).maxAttempts(3).build()).jobId();
    Outcomes.LeaseGrant grant = ledger.jobs().leaseOne(LeaseRequest.of("w", Set.of(JobKind.BUILD), Duration.ofSeconds(30)))
        .orElseThrow();
    listening();
    CompletableFuture<Void> woken = waitForWork(ledger.jobs().ready());
    ledger.jobs().complete(id, grant.epoch(), new Completion.Failed("flaky", Disposition.RETRYABLE));
    assertThat(woken).isNotDone(); // the retry is due after its backoff (1 s here), not now
    await().atMost(Duration.ofSeconds(10)).until(woken::isDone);
  }

  @Test
  void aNearRetryIsWokenEvenWhenFarOffDelaysHoldEveryTimer() throws Exception {
    JobWakeups ready = ledger.jobs().ready();
    long inAnHour = clock.millis() + Duration.ofHours(1).toMillis();
    ledger.transact(tx -> {
      for (int i = 0; i < 1_024; i++) {
        JobWakeups.announce(tx, JobKind.BUILD, inAnHour + i * 1_000L); // delayed jobs, an hour out
      }
      return null;
    });
    assertThat(ready.scheduled()).isEqualTo(1_024);
    JobWakeups.Waiting builds = ready.of(Set.of(JobKind.BUILD));
    long seen = builds.version();
    long soon = clock.millis() + 300;
    ledger.transact(tx -> {
      JobWakeups.announce(tx, JobKind.BUILD, soon); // a retry's backoff
      return null;
    });
    assertThat(ready.scheduled()).as("the latest made room").isEqualTo(1_024);
    await().atMost(Duration.ofSeconds(10)).until(() -> builds.version() > seen); // not the minute-long poll
  }
}
