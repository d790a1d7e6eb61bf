package dev.conveyor.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/** The supervisor's restart, backoff and health rules, on an injected clock that sleeps advance. */
class SupervisorTest {
  private final TestClock clock = new TestClock();
  private final List<Duration> sleeps = new ArrayList<>();
  private final Supervisor.Policy policy =
      new Supervisor.Policy(Duration.ofMillis(100), Duration.ofMillis(1_000), 3, Duration.ofSeconds(10));
  private final Supervisor supervisor = new Supervisor(policy, clock, d -> {
    sleeps.add(d);
    clock.advance(d);
  });
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger logger = (Logger) LoggerFactory.getLogger(Supervisor.class);

  @BeforeEach
  void captureLogs() {
    logs.start();
    logger.addAppender(logs);
  }

  @AfterEach
  void releaseLogs() {
    logger.detachAppender(logs);
  }

  @Test
  void backoffDoublesFromTheFirstPauseUpToTheMaximum() {
    assertThat(List.of(1, 2, 3, 4, 5, 40).stream().map(policy::backoff).map(Duration::toMillis).toList())
        .containsExactly(100L, 200L, 400L, 800L, 1_000L, 1_000L);
  }

  @Test
  void aLongLivedLoopThatThrowsAnErrorIsLoggedWithItsNameAndRunsAgainUntilItsOwnerStopsIt() {
    AtomicInteger starts = new AtomicInteger();
    AtomicBoolean running = new AtomicBoolean(true);
    supervisor.run("build-worker", running::get, () -> {
      int n = starts.incrementAndGet();
      if (n <= 4) {
        throw new StackOverflowError("injected " + n);
      }
      running.set(false); // the fifth start works until its owner closes it
    });

    assertThat(starts).hasValue(5);
    assertThat(sleeps).containsExactly(Duration.ofMillis(100), Duration.ofMillis(200), Duration.ofMillis(400),
        Duration.ofMillis(800));
    assertThat(supervisor.failures("build-worker")).isEqualTo(4);
    List<String> lines = logs.list.stream().map(ILoggingEvent::getFormattedMessage).toList();
    assertThat(lines).anyMatch(l -> l.startsWith("loop 'build-worker' failed (1 in a row)"));
    assertThat(lines).anyMatch(l -> l.contains("'build-worker' is unhealthy after 3 failures in a row"));
    assertThat(lines).last().isEqualTo("loop 'build-worker' stopped: its owner stopped it");
    // the stack is logged when the failure changes (each message differs here), never dropped
    assertThat(logs.list.stream().filter(e -> e.getThrowableProxy() != null).count()).isEqualTo(4);
  }

  @Test
  void theSameFailureAgainIsOneLineWithoutTheStack() {
    AtomicInteger starts = new AtomicInteger();
    AtomicBoolean running = new AtomicBoolean(true);
    supervisor.run("reaper", running::get, () -> {
      if (starts.incrementAndGet() == 3) {
        running.set(false);
        return;
      }
      throw new OutOfMemoryError("same");
    });
    List<ILoggingEvent> failures = logs.list.stream().filter(e -> e.getFormattedMessage().contains("failed")).toList();
    assertThat(failures).hasSize(2);
    assertThat(failures.get(0).getThrowableProxy()).isNotNull();
    assertThat(failures.get(1).getThrowableProxy()).isNull();
    assertThat(failures.get(1).getFormattedMessage()).contains("failed again (2 in a row)", "OutOfMemoryError: same");
  }

  @Test
  void aLoopThatReturnsWhileItShouldRunIsRestartedAndAnInterruptedBackoffStopsIt() {
    AtomicInteger starts = new AtomicInteger();
    Supervisor interrupting = new Supervisor(policy, clock, d -> {
      throw new InterruptedException();
    });
    interrupting.run("listener", () -> true, starts::incrementAndGet);
    assertThat(starts).hasValue(1);
    assertThat(interrupting.failures("listener")).isEqualTo(1);
    assertThat(logs.list.get(logs.list.size() - 1).getFormattedMessage())
        .isEqualTo("loop 'listener' stopped: interrupted while waiting to restart");
    assertThat(Thread.interrupted()).isTrue(); // the interrupt is kept for the thread's owner
  }

  @Test
  void aLongLivedLoopIsUnhealthyAfterKFailuresInARowAndHealthyAgainOnceItRanCleanlyForStableAfter() {
    AtomicInteger starts = new AtomicInteger();
    AtomicBoolean running = new AtomicBoolean(true);
    supervisor.run("coordinator", running::get, () -> {
      if (starts.incrementAndGet() <= 3) {
        throw new Error("boom");
      }
      running.set(false);
    });
    assertThat(supervisor.healthy()).isFalse();
    assertThat(supervisor.unhealthy()).containsExactly("coordinator");
    assertThat(supervisor.status()).singleElement().satisfies(s -> {
      assertThat(s.consecutive()).isEqualTo(3);
      assertThat(s.lastError()).isEqualTo("java.lang.Error: boom");
    });

    clock.advance(Duration.ofSeconds(9));
    assertThat(supervisor.healthy()).isFalse();
    clock.advance(Duration.ofSeconds(1));
    assertThat(supervisor.healthy()).isTrue();

    // a failure after the stable period starts a new run: back to the first pause, still healthy
    running.set(true);
    starts.set(0);
    sleeps.clear();
    supervisor.run("coordinator", running::get, () -> {
      if (starts.incrementAndGet() == 1) {
        throw new Error("again");
      }
      running.set(false);
    });
    assertThat(sleeps).containsExactly(Duration.ofMillis(100));
    assertThat(supervisor.healthy()).isTrue();
    assertThat(supervisor.failures("coordinator")).isEqualTo(4);
  }

  @Test
  void aPeriodicTaskNeverThrowsSkipsItsTurnsWhileBackingOffAndASuccessMakesItHealthy() {
    AtomicInteger runs = new AtomicInteger();
    AtomicBoolean fail = new AtomicBoolean(true);
    Runnable tick = supervisor.periodic("planner", () -> {
      runs.incrementAndGet();
      if (fail.get()) {
        throw new AssertionError("injected");
      }
    });

    tick.run(); // fails: backs off 100 ms
    tick.run(); // skipped
    assertThat(runs).hasValue(1);
    clock.advance(Duration.ofMillis(100));
    tick.run(); // fails: 200 ms
    clock.advance(Duration.ofMillis(199));
    tick.run(); // skipped
    clock.advance(Duration.ofMillis(1));
    tick.run(); // fails the third time: unhealthy
    assertThat(runs).hasValue(3);
    assertThat(supervisor.unhealthy()).containsExactly("planner");

    fail.set(false);
    clock.advance(Duration.ofMillis(400));
    tick.run();
    assertThat(runs).hasValue(4);
    assertThat(supervisor.healthy()).isTrue();
    assertThat(supervisor.status()).singleElement().satisfies(s -> {
      assertThat(s.consecutive()).isZero();
      assertThat(s.failures()).isEqualTo(3);
    });
    assertThat(logs.list.stream().map(ILoggingEvent::getFormattedMessage))
        .anyMatch(l -> l.equals("loop 'planner' recovered after 3 failures in a row"));
    tick.run(); // no backoff after a success
    assertThat(runs).hasValue(5);
  }

  @Test
  void onceReportsFailureAndSuccessPerUnitOfWork() {
    assertThat(supervisor.once("drain:g", () -> {
      throw new LinkageError("bad class");
    })).isFalse();
    assertThat(supervisor.once("drain:g", () -> {})).isTrue();
    assertThat(supervisor.failures("drain:g")).isEqualTo(1);
    assertThat(supervisor.healthy()).isTrue();
    assertThat(logs.list).anyMatch(e -> e.getLevel() == Level.ERROR
        && e.getFormattedMessage().startsWith("loop 'drain:g' failed"));
  }

  private static final class TestClock extends Clock {
    private Instant now = Instant.parse("2026-01-01T00:00:00Z");

    void advance(Duration d) {
      now = now.plus(d);
    }

    @Override
    public Instant instant() {
      return now;
    }

    @Override
    public java.time.ZoneId getZone() {
      return ZoneOffset.UTC;
    }

    @Override
    public Clock withZone(java.time.ZoneId zone) {
      return this;
    }
  }
}
