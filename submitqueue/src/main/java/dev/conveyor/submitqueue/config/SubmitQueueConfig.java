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
    ConflictAnalyzer analyzer, double successPrior, BuildIsolation isolation) {

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
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, a, successPrior, isolation);
  }

  public SubmitQueueConfig withBuildTimeout(Duration d) {
    return new SubmitQueueConfig(git, buildCommand, d, buildBudget, analyzer, successPrior, isolation);
  }

  public SubmitQueueConfig withBuildBudget(int n) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, n, analyzer, successPrior, isolation);
  }

  public SubmitQueueConfig withIsolation(BuildIsolation i) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, i);
  }
}
