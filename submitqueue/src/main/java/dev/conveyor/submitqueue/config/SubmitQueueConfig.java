package dev.conveyor.submitqueue.config;

import dev.conveyor.runway.queue.QueueConfig;
import java.time.Duration;

/**
 * One merge queue as SubmitQueue runs it: its repository and target (shared with Runway), the build
 * command run in each speculative tree, how long a build may take, how many builds may run at once,
 * how conflicts are found, the prior probability that a change passes its build and merges, and
 * what a build may see ({@link BuildIsolation}).
 */
public record SubmitQueueConfig(QueueConfig git, String buildCommand, Duration buildTimeout, int buildBudget,
    ConflictAnalyzer analyzer, double successPrior, BuildIsolation isolation, int batchSize, Duration batchWait,
    int buildRetries) {

  /** The most times a failed build is run again before its failure counts. */
  public static final int MAX_BUILD_RETRIES = 5;

  /** The most requests one batch may hold. */
  public static final int MAX_BATCH_SIZE = 64;

  /** How batches that must be ordered are found. */
  public enum ConflictAnalyzer {
    /** Batches conflict when their changes touch a common path. */
    PATHS,
    /** Every batch depends on every active batch before it: a strictly serial queue. */
    SERIAL
  }

  public SubmitQueueConfig {
    if (buildCommand == null || buildCommand.isBlank()) {
      throw new IllegalArgumentException("queue '" + git.name() + "' needs a build command (queue."
          + git.name() + ".build-command)");
    }
    if (buildTimeout.isNegative() || buildTimeout.isZero()) {
      throw new IllegalArgumentException("queue '" + git.name() + "': build timeout must be positive");
    }
    if (buildBudget < 1) {
      throw new IllegalArgumentException("queue '" + git.name() + "': build budget must be at least 1");
    }
    if (!(successPrior > 0 && successPrior < 1)) {
      throw new IllegalArgumentException("queue '" + git.name() + "': success prior must be between 0 and 1"
          + " (exclusive), got " + successPrior);
    }
    if (isolation == null) {
      throw new IllegalArgumentException("queue '" + git.name() + "': build isolation must be set");
    }
    if (batchSize < 1 || batchSize > MAX_BATCH_SIZE) {
      throw new IllegalArgumentException("queue '" + git.name() + "': batch size must be between 1 and "
          + MAX_BATCH_SIZE + ", got " + batchSize);
    }
    if (batchWait == null || batchWait.isNegative()) {
      throw new IllegalArgumentException("queue '" + git.name() + "': batch wait must not be negative");
    }
    if (buildRetries < 0 || buildRetries > MAX_BUILD_RETRIES) {
      throw new IllegalArgumentException("queue '" + git.name() + "': build retries must be between 0 and "
          + MAX_BUILD_RETRIES + ", got " + buildRetries);
    }
  }

  /** A failed build counts at once (no retries). */
  public SubmitQueueConfig(QueueConfig git, String buildCommand, Duration buildTimeout, int buildBudget,
      ConflictAnalyzer analyzer, double successPrior, BuildIsolation isolation, int batchSize, Duration batchWait) {
    this(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, isolation, batchSize, batchWait, 0);
  }

  /** Without batching: one request per batch, as before batch-size existed. */
  public SubmitQueueConfig(QueueConfig git, String buildCommand, Duration buildTimeout, int buildBudget,
      ConflictAnalyzer analyzer, double successPrior, BuildIsolation isolation) {
    this(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, isolation, 1, Duration.ZERO);
  }

  /** With the default isolation (bubblewrap when installed, no network, empty environment). */
  public SubmitQueueConfig(QueueConfig git, String buildCommand, Duration buildTimeout, int buildBudget,
      ConflictAnalyzer analyzer, double successPrior) {
    this(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, BuildIsolation.DEFAULT);
  }

  public String name() {
    return git.name();
  }

  public static SubmitQueueConfig of(QueueConfig git, String buildCommand, int buildBudget) {
    return new SubmitQueueConfig(git, buildCommand, Duration.ofMinutes(30), buildBudget, ConflictAnalyzer.PATHS, 0.8);
  }

  public SubmitQueueConfig withAnalyzer(ConflictAnalyzer a) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, a, successPrior, isolation, batchSize, batchWait, buildRetries);
  }

  public SubmitQueueConfig withBuildTimeout(Duration d) {
    return new SubmitQueueConfig(git, buildCommand, d, buildBudget, analyzer, successPrior, isolation, batchSize, batchWait, buildRetries);
  }

  public SubmitQueueConfig withBuildBudget(int n) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, n, analyzer, successPrior, isolation, batchSize, batchWait, buildRetries);
  }

  public SubmitQueueConfig withIsolation(BuildIsolation i) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, i, batchSize, batchWait, buildRetries);
  }

  /** Batches of up to {@code size} requests, waiting up to {@code wait} for a batch to fill on a quiet queue. */
  public SubmitQueueConfig withBatching(int size, Duration wait) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, isolation, size,
        wait, buildRetries);
  }

  /** A failed build runs up to {@code retries} more times (in a fresh copy of its tree) before it counts. */
  public SubmitQueueConfig withBuildRetries(int retries) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, isolation,
        batchSize, batchWait, retries);
  }
}
