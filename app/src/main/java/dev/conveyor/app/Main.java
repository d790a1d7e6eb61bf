package dev.conveyor.app;

import dev.conveyor.app.cli.ErrorReporter;
import dev.conveyor.app.cli.StartupTraining;
import dev.conveyor.app.capture.CaptureCommand;
import dev.conveyor.app.capture.WorkerCommand;
import dev.conveyor.app.demo.DemoCommand;
import dev.conveyor.app.serve.ServeCommand;
import dev.conveyor.app.jobs.JobsCommand;
import dev.conveyor.app.queue.QueueCommand;
import dev.conveyor.app.runway.RunwayCommand;
import dev.conveyor.app.mergequeue.BuildCommand;
import dev.conveyor.app.mergequeue.MergeQueueCommands;
import dev.conveyor.app.admin.AdminCommand;
import java.util.Arrays;
import java.util.List;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

@Command(
    name = "conveyor",
    mixinStandardHelpOptions = true,
    version = "conveyor 0.1.0",
    description = {"Durable asynchronous work on one ledger (SQLite embedded, PostgreSQL to scale out): leased jobs,"
        + " idempotent results, ordered streams; a speculative merge queue (SubmitQueue + Runway) and Parquet"
        + " statistics capture run on it.",
        "Start with 'conveyor demo'; run a node with 'conveyor serve' (status page on http://127.0.0.1:7421/)."},
    footer = {"", "Ledger: --ledger URL or CONVEYOR_LEDGER; default sqlite:conveyor-data/conveyor.db.",
        "Server: --server HOST:PORT or CONVEYOR_SERVER; default 127.0.0.1:7420.",
        "Run 'conveyor help COMMAND' for a command's options."})
public final class Main implements Runnable {
  /** The commands, in the order usage lists them. */
  private static final List<Class<?>> COMMANDS = List.of(DemoCommand.class, ServeCommand.class, CaptureCommand.class,
      WorkerCommand.class, JobsCommand.class, QueueCommand.class, RunwayCommand.class, MergeQueueCommands.Land.class,
      MergeQueueCommands.Status.class, MergeQueueCommands.ListRequests.class, MergeQueueCommands.Watch.class,
      MergeQueueCommands.Cancel.class, dev.conveyor.app.mergequeue.QueueStateCommands.Revert.class, BuildCommand.class, dev.conveyor.app.mergequeue.CiCommand.class,
      dev.conveyor.app.durability.DurabilityCommand.class, AdminCommand.class);

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and answers its exit code; the entry point tests use. */
  public static int run(String... args) {
    if (args.length >= 3 && args[0].equals("help")) {
      // picocli's help takes one command: 'help capture add-table' would print capture's help
      String[] asked = Arrays.copyOf(Arrays.copyOfRange(args, 1, args.length), args.length);
      asked[args.length - 1] = "--help";
      return run(asked);
    }
    CommandLine cli = new CommandLine(new Main());
    // picocli builds the model of every registered command up front (reflection over every option of
    // every command): with all of them, that was most of a short command's start-up. A call that names
    // a command gets only that one; anything else (usage, help, a typo to suggest for) gets them all.
    Class<?> named = args.length == 0 ? null : commandNamed(args[0]);
    for (Class<?> command : COMMANDS) {
      if (named == null || named == command) {
        cli.addSubcommand(command);
      }
    }
    if (named == null) {
      cli.addSubcommand(CommandLine.HelpCommand.class);
      cli.addSubcommand("startup-training", new StartupTraining(Main::run));
    }
    if (named == null || args[0].equals("completion")) {
      cli.addSubcommand("completion", new dev.conveyor.app.completion.CompletionCommand(Main::fullTree));
    }
    return cli
        .setExecutionExceptionHandler(new ErrorReporter())
        .setParameterExceptionHandler(ErrorReporter::parameterError)
        .execute(args);
  }

  /** The CLI with every command, as completion describes it. */
  private static CommandLine fullTree() {
    CommandLine cli = new CommandLine(new Main());
    COMMANDS.forEach(cli::addSubcommand);
    cli.addSubcommand(CommandLine.HelpCommand.class);
    return cli;
  }

  /** The command whose name or alias is {@code word}, or null. */
  private static Class<?> commandNamed(String word) {
    for (Class<?> command : COMMANDS) {
      Command c = command.getAnnotation(Command.class);
      if (c.name().equals(word) || Arrays.asList(c.aliases()).contains(word)) {
        return command;
      }
    }
    return null;
  }

  @Spec CommandSpec spec;

  @Override
  public void run() {
    spec.commandLine().usage(System.out); // the registered commands, which a bare call has all of
  }
}
