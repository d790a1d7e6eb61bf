package dev.conveyor.supervise;

import java.time.Clock;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentSkipListMap;
import java.util.function.BooleanSupplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Keeps a process's background loops alive. A loop body that throws anything — an {@code Error}
 * included, which would otherwise end a pool thread or a scheduled task silently — is logged with
 * the loop's name (the stack once per run of identical failures), counted, and run again after an
 * exponential backoff. A loop that failed {@link Policy#unhealthyAfter} times in a row is unhealthy
 * until it runs cleanly again; the node's health check reads {@link #healthy()}.
 *
 * <p>Three shapes: {@link #run} for a long-lived loop on its own thread, {@link #periodic} for a task
 * a scheduler calls again and again, and {@link #once} for one unit of work handed to a pool.
 */
public final class Supervisor {
  private static final Logger log = LoggerFactory.getLogger(Supervisor.class);

  /**
   * Backoff starts at {@code firstBackoff} and doubles up to {@code maxBackoff}; {@code unhealthyAfter}
   * failures in a row make a loop unhealthy; a loop that has not failed for {@code stableAfter} is
   * healthy again and its next failure starts a new run of failures (long-lived loops never report
   * a success of their own).
   */
  public record Policy(Duration firstBackoff, Duration maxBackoff, int unhealthyAfter, Duration stableAfter) {
    public Policy {
      if (firstBackoff.isNegative() || firstBackoff.isZero() || maxBackoff.compareTo(firstBackoff) < 0) {
        throw new IllegalArgumentException("backoff must be positive and first <= max");
      }
      if (unhealthyAfter < 1) {
        throw new IllegalArgumentException("unhealthyAfter must be at least 1");
      }
      if (stableAfter.isNegative() || stableAfter.isZero()) {
        throw new IllegalArgumentException("stableAfter must be positive");
      }
    }

    public static Policy defaults() {
      return new Policy(Duration.ofMillis(200), Duration.ofSeconds(30), 5, Duration.ofMinutes(1));
    }

    /** The pause after the {@code consecutive}-th failure in a row (1-based). */
    public Duration backoff(int consecutive) {
      long first = firstBackoff.toMillis();
      int doublings = Math.min(Math.max(consecutive - 1, 0), 30);
      long ms = first << doublings;
      return ms <= 0 || ms > maxBackoff.toMillis() ? maxBackoff : Duration.ofMillis(ms);
    }
  }

  /** One pass of a loop, or the whole of a long-lived one. */
  @FunctionalInterface
  public interface Body {
    void run() throws Exception;
  }

  /** How a long-lived loop waits out its backoff (a real sleep, or a test's clock). */
  @FunctionalInterface
  public interface Sleeper {
    void sleep(Duration d) throws InterruptedException;

    Sleeper REAL = d -> Thread.sleep(d.toMillis());
  }

  private final Policy policy;
  private final Clock clock;
  private final Sleeper sleeper;
  private final Map<String, LoopRecord> loops = new ConcurrentSkipListMap<>();

  public Supervisor(Policy policy, Clock clock, Sleeper sleeper) {
    this.policy = policy;
    this.clock = clock;
    this.sleeper = sleeper;
  }

  /** The production default: {@link Policy#defaults()}, the system clock, real sleeps. */
  public static Supervisor create() {
    return new Supervisor(Policy.defaults(), Clock.systemUTC(), Sleeper.REAL);
  }

  public Policy policy() {
    return policy;
  }

  /**
   * Runs {@code body} on the calling thread for as long as {@code keepRunning} holds: when it throws
   * (or returns while it should still run) it is logged, counted and started again after the backoff.
   * Returns once the owner stops it or the thread is interrupted while backing off, logging why.
   */
  public void run(String name, BooleanSupplier keepRunning, Body body) {
    LoopRecord loop = loop(name);
    String why;
    while (true) {
      if (!keepRunning.getAsBoolean()) {
        why = "its owner stopped it";
        break;
      }
      Throwable failure;
      try {
        body.run();
        failure = keepRunning.getAsBoolean()
            ? new IllegalStateException("the loop returned while its owner still runs it") : null;
      } catch (InterruptedException e) {
        failure = keepRunning.getAsBoolean() ? e : null;
      } catch (Throwable t) {
        failure = t;
      }
      if (failure == null) {
        why = "its owner stopped it";
        break;
      }
      Duration backoff = loop.failed(failure);
      if (!keepRunning.getAsBoolean()) {
        why = "its owner stopped it (after a failure: " + describe(failure) + ")";
        break;
      }
      try {
        sleeper.sleep(backoff);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        why = "interrupted while waiting to restart";
        break;
      }
    }
    log.info("loop '{}' stopped: {}", name, why);
  }

  /**
   * A task for a scheduler that never throws: each call runs {@code body} unless the loop is still
   * backing off from a failure; a failure is logged, counted and starts the backoff, a success ends it.
   */
  public Runnable periodic(String name, Body body) {
    LoopRecord loop = loop(name);
    return () -> {
      if (!loop.backingOff()) {
        attempt(loop, body);
      }
    };
  }

  /** Runs one unit of {@code name}'s work now; a failure is logged and counted. Answers whether it succeeded. */
  public boolean once(String name, Body body) {
    return attempt(loop(name), body);
  }

  /** For owners of periodic loops: logs that {@code name} stopped and why. */
  public void stopped(String name, String why) {
    log.info("loop '{}' stopped: {}", name, why);
  }

  /** True when no loop is unhealthy. */
  public boolean healthy() {
    return unhealthy().isEmpty();
  }

  /** The names of the loops that are unhealthy now. */
  public List<String> unhealthy() {
    List<String> out = new ArrayList<>();
    for (LoopStatus s : status()) {
      if (!s.healthy()) {
        out.add(s.name());
      }
    }
    return out;
  }

  /** Every loop this supervisor has seen, by name. */
  public List<LoopStatus> status() {
    List<LoopStatus> out = new ArrayList<>();
    loops.values().forEach(l -> out.add(l.status()));
    return out;
  }

  /** Failures of {@code name} since the process started (0 for a loop never seen). */
  public long failures(String name) {
    LoopRecord l = loops.get(name);
    return l == null ? 0 : l.status().failures();
  }

  private boolean attempt(LoopRecord loop, Body body) {
    try {
      body.run();
      loop.succeeded();
      return true;
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt(); // the owner is stopping; not a failure of the loop
      return false;
    } catch (Throwable t) {
      loop.failed(t);
      return false;
    }
  }

  private LoopRecord loop(String name) {
    return loops.computeIfAbsent(name, LoopRecord::new);
  }

  private static String describe(Throwable t) {
    return t.getClass().getName() + (t.getMessage() == null ? "" : ": " + t.getMessage());
  }

  /** One named loop's failure record; shared by every thread that runs the loop. */
  private final class LoopRecord {
    private final String name;
    private long failures;
    private int consecutive;
    private long lastFailureMs = Long.MIN_VALUE;
    private long notBeforeMs = Long.MIN_VALUE;
    private String lastError;

    LoopRecord(String name) {
      this.name = name;
    }

    synchronized Duration failed(Throwable t) {
      long now = clock.millis();
      if (lastFailureMs != Long.MIN_VALUE && now - lastFailureMs >= policy.stableAfter().toMillis()) {
        consecutive = 0; // it ran cleanly for a while: this is a new run of failures
      }
      consecutive++;
      failures++;
      lastFailureMs = now;
      Duration backoff = policy.backoff(consecutive);
      notBeforeMs = now + backoff.toMillis();
      String error = describe(t);
      if (consecutive == 1 || !error.equals(lastError)) {
        log.error("loop '{}' failed ({} in a row); it runs again in {} ms", name, consecutive, backoff.toMillis(), t);
      } else {
        log.warn("loop '{}' failed again ({} in a row): {}; it runs again in {} ms", name, consecutive, error,
            backoff.toMillis());
      }
      if (consecutive == policy.unhealthyAfter()) {
        log.error("loop '{}' is unhealthy after {} failures in a row; the node reports NOT_SERVING until it runs"
            + " cleanly again", name, consecutive);
      }
      lastError = error;
      return backoff;
    }

    synchronized void succeeded() {
      if (consecutive >= policy.unhealthyAfter()) {
        log.info("loop '{}' recovered after {} failures in a row", name, consecutive);
      }
      consecutive = 0;
      notBeforeMs = Long.MIN_VALUE;
    }

    synchronized boolean backingOff() {
      return clock.millis() < notBeforeMs;
    }

    synchronized LoopStatus status() {
      boolean stable = lastFailureMs != Long.MIN_VALUE
          && clock.millis() - lastFailureMs >= policy.stableAfter().toMillis();
      boolean healthy = consecutive < policy.unhealthyAfter() || stable;
      return new LoopStatus(name, failures, stable ? 0 : consecutive, healthy, lastError);
    }
  }
}
