package dev.conveyor.submitqueue.config;

import java.time.Duration;

/**
 * How a queue with {@code conflict-analyzer = targets} finds a change's affected build targets: a command
 * run in a sandboxed copy of the change's tree (as builds run) that prints one target a line; two changes
 * conflict when their targets meet.
 * <pre>
 * queue.app.conflict-analyzer = targets
 * queue.app.targets-command = ./tools/affected-targets.sh   # e.g. a bazel query / bazel-diff / nx affected wrapper
 * queue.app.targets-timeout = 5m                            # default 5m
 * </pre>
 */
public record TargetsCommand(String command, Duration timeout) {
  /** Targets one change may have; more is refused (a command printing a whole repository is a mistake). */
  public static final int MAX_TARGETS = 10_000;
  public static final int MAX_TARGET_BYTES = 512;

  public TargetsCommand {
    if (command == null || command.isBlank()) {
      throw new IllegalArgumentException("a targets command must not be empty");
    }
    if (timeout == null || timeout.isNegative() || timeout.isZero()) {
      throw new IllegalArgumentException("a targets timeout must be positive");
    }
  }
}
