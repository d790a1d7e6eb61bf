package dev.conveyor.app.runway;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.app.cli.ErrorReporter.UserError;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.queue.RunwayQueues;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import picocli.CommandLine.Option;

/** Where Runway's queue configuration comes from: a properties file, or one queue given on the command line. */
public final class RunwayQueuesOption {
  @Option(names = "--queues", paramLabel = "FILE",
      description = "Queue configuration (properties: queue.<name>.remote, .branch, .strategy, .push-attempts,"
          + " .remotes.<alias>). Default: <data-dir>/queues.properties.")
  Path file;

  @Option(names = "--remote", paramLabel = "URL",
      description = "Define the queue on the command line instead: the repository (path or URL) of its target branch.")
  String remote;

  @Option(names = "--branch", defaultValue = "main", description = "Target branch with --remote (default: ${DEFAULT-VALUE}).")
  String branch;

  @Option(names = "--default-strategy", defaultValue = "REBASE",
      description = "What DEFAULT means with --remote: REBASE, SQUASH_REBASE, MERGE or PROMOTE (default: ${DEFAULT-VALUE}).")
  Strategy defaultStrategy;

  public static Path defaultFile(Path dataDir) {
    return dataDir.resolve("queues.properties");
  }

  /** The configured queues; {@code queueName} names the queue that --remote defines. */
  public RunwayQueues load(Path dataDir, String queueName) throws IOException {
    if (remote != null) {
      return RunwayQueues.of(QueueConfig.of(queueName,
          RunwayQueues.localPath(remote, Path.of("").toAbsolutePath()), branch, defaultStrategy));
    }
    Path f = file != null ? file : defaultFile(dataDir);
    if (!Files.exists(f)) {
      throw new UserError("no Runway queue configuration at " + f,
          "pass --queues FILE, or --remote URL [--branch B] to define the queue on the command line");
    }
    return RunwayQueues.load(f, dev.conveyor.submitqueue.config.SubmitQueues.SETTINGS);
  }

  /** The queues of a server: none (merge queue off) unless a file is given or the default one exists. */
  public static dev.conveyor.submitqueue.config.SubmitQueues loadIfPresent(Path file, Path dataDir)
      throws IOException {
    Path f = file != null ? file : defaultFile(dataDir);
    if (file == null && !Files.exists(f)) {
      return null;
    }
    return dev.conveyor.submitqueue.config.SubmitQueues.load(f);
  }
}
