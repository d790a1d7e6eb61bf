package dev.conveyor.submitqueue.config;

import dev.conveyor.runway.queue.QueueConfig;
import java.time.Duration;
import java.util.List;

/**
 * One merge queue as SubmitQueue runs it: its repository and target (shared with Runway), the build
 * command run in each speculative tree, how long a build may take, how many builds may run at once,
 * how conflicts are found, the prior probability that a change passes its build and merges, and
 * what a build may see ({@link BuildIsolation}).
 */
public record SubmitQueueConfig(QueueConfig git, String buildCommand, Duration buildTimeout, int buildBudget,
    ConflictAnalyzer analyzer, double successPrior, BuildIsolation isolation, int batchSize, Duration batchWait,
    int buildRetries, Runner runner, Verify verify) {

  /**
   * Which commits a queue's builds verify: {@code TIP}, the tree after the whole change (each commit of a
   * multi-commit REBASE or PROMOTE change lands unbuilt but the last); {@code EACH_COMMIT}, every commit that
   * appears on the target's first-parent line must have been built — a change that would put several there
   * is refused with the way to land it as one commit.
   */
  public enum Verify { TIP, EACH_COMMIT }

  /** The most times a failed build is run again before its failure counts. */
  public static final int MAX_BUILD_RETRIES = 5;

  /** The most requests one batch may hold. */
  public static final int MAX_BATCH_SIZE = 64;

  /** How batches that must be ordered are found. */
  public enum ConflictAnalyzer {
    /** Batches conflict when their changes touch a common path. */
    PATHS,
    /** Every batch depends on every active batch before it: a strictly serial queue. */
    SERIAL,
    /** Batches conflict when their changes' affected build targets meet ({@link TargetsCommand}). */
    TARGETS
  }

  /**
   * Where a queue's builds run: {@code LOCAL}, a build worker runs {@code build-command} in the tree; or
   * external, each tree is pushed to a staging ref that the team's CI builds, and the build passes when
   * every one of {@code requiredChecks} was reported passed (it fails on the first failed check, and when
   * the build timeout passes first).
   */
  public record Runner(boolean external, List<String> requiredChecks) {
    public static final Runner LOCAL = new Runner(false, List.of());
    /** The check an external queue requires when it names none. */
    public static final String DEFAULT_CHECK = "ci";
    public static final int MAX_CHECKS = 16;
    private static final java.util.regex.Pattern CHECK = java.util.regex.Pattern.compile("[A-Za-z0-9][A-Za-z0-9._/-]{0,63}");

    public Runner {
      requiredChecks = List.copyOf(requiredChecks);
      if (external && requiredChecks.isEmpty()) {
        throw new IllegalArgumentException("an external build runner needs at least one required check");
      }
      if (requiredChecks.size() > MAX_CHECKS) {
        throw new IllegalArgumentException("at most " + MAX_CHECKS + " required checks, got " + requiredChecks.size());
      }
      for (String c : requiredChecks) {
        if (!validCheck(c)) {
          throw new IllegalArgumentException("'" + c + "' is not a check name (letters, digits, '.', '_', '/', '-';"
              + " at most 64 characters)");
        }
      }
      if (new java.util.HashSet<>(requiredChecks).size() != requiredChecks.size()) {
        throw new IllegalArgumentException("required checks name one check twice: " + requiredChecks);
      }
    }

    /** Builds in the team's CI, which must report each of {@code checks}. */
    public static Runner external(List<String> checks) {
      return new Runner(true, checks);
    }

    /** Whether {@code name} could name a check (bounded, no spaces or control characters). */
    public static boolean validCheck(String name) {
      return name != null && CHECK.matcher(name).matches();
    }
  }

  public SubmitQueueConfig {
    if (verify == null) {
      verify = Verify.TIP;
    }
    if (verify == Verify.EACH_COMMIT && batchSize > 1) {
      throw new IllegalArgumentException("queue '" + git.name() + "': verify = each-commit needs batch-size 1 (a batch"
          + " lands each member's commit after one build of them all)");
    }
    if (runner == null) {
      throw new IllegalArgumentException("queue '" + git.name() + "': its build runner must be set");
    }
    if (runner.external()) {
      buildCommand = buildCommand == null ? "" : buildCommand;
      dev.conveyor.runway.merge.StagingRefs.of(git.name(), "build"); // refuses a name no ref could carry
    } else if (buildCommand == null || buildCommand.isBlank()) {
      throw new IllegalArgumentException("queue '" + git.name() + "' needs a build command (queue."
          + git.name() + ".build-command) or build-runner = external");
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

  /** Built locally by the queue's build command. */
  public SubmitQueueConfig(QueueConfig git, String buildCommand, Duration buildTimeout, int buildBudget,
      ConflictAnalyzer analyzer, double successPrior, BuildIsolation isolation, int batchSize, Duration batchWait,
      int buildRetries) {
    this(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, isolation, batchSize, batchWait,
        buildRetries, Runner.LOCAL, Verify.TIP);
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
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, a, successPrior, isolation, batchSize, batchWait, buildRetries, runner, verify);
  }

  public SubmitQueueConfig withBuildTimeout(Duration d) {
    return new SubmitQueueConfig(git, buildCommand, d, buildBudget, analyzer, successPrior, isolation, batchSize, batchWait, buildRetries, runner, verify);
  }

  public SubmitQueueConfig withBuildBudget(int n) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, n, analyzer, successPrior, isolation, batchSize, batchWait, buildRetries, runner, verify);
  }

  public SubmitQueueConfig withIsolation(BuildIsolation i) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, i, batchSize, batchWait, buildRetries, runner, verify);
  }

  /** Batches of up to {@code size} requests, waiting up to {@code wait} for a batch to fill on a quiet queue. */
  public SubmitQueueConfig withBatching(int size, Duration wait) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, isolation, size,
        wait, buildRetries, runner, verify);
  }

  /** The same queue on another remote or with other remote settings ({@code g} keeps the name). */
  public SubmitQueueConfig withGit(QueueConfig g) {
    return new SubmitQueueConfig(g, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, isolation,
        batchSize, batchWait, buildRetries, runner, verify);
  }

  /** Builds with {@code command}. */
  public SubmitQueueConfig withBuildCommand(String command) {
    return new SubmitQueueConfig(git, command, buildTimeout, buildBudget, analyzer, successPrior, isolation,
        batchSize, batchWait, buildRetries, runner, verify);
  }

  /** Verifies {@code v}: the tip of each change, or each commit that lands. */
  public SubmitQueueConfig withVerify(Verify v) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, isolation,
        batchSize, batchWait, buildRetries, runner, v);
  }

  /** Builds run by {@code r} (an external CI, or locally). */
  public SubmitQueueConfig withRunner(Runner r) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, isolation,
        batchSize, batchWait, buildRetries, r, verify);
  }

  /** A failed build runs up to {@code retries} more times (in a fresh copy of its tree) before it counts. */
  public SubmitQueueConfig withBuildRetries(int retries) {
    return new SubmitQueueConfig(git, buildCommand, buildTimeout, buildBudget, analyzer, successPrior, isolation,
        batchSize, batchWait, retries, runner, verify);
  }
}
