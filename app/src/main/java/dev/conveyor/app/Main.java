package dev.conveyor.app;

import dev.conveyor.app.cli.ErrorReporter;
import dev.conveyor.app.capture.CaptureCommand;
import dev.conveyor.app.capture.WorkerCommand;
import dev.conveyor.app.demo.DemoCommand;
import dev.conveyor.app.serve.ServeCommand;
import dev.conveyor.app.jobs.JobsCommand;
import dev.conveyor.app.queue.QueueCommand;
import dev.conveyor.app.runway.RunwayCommand;
import dev.conveyor.app.mergequeue.BuildCommand;
import dev.conveyor.app.mergequeue.MergeQueueCommands;
import picocli.CommandLine;
import picocli.CommandLine.Command;

@Command(
    name = "conveyor",
    mixinStandardHelpOptions = true,
    version = "conveyor 0.1.0",
    description = {"Durable asynchronous work on one ledger (SQLite embedded, PostgreSQL to scale out): leased jobs,"
        + " idempotent results, ordered streams; a speculative merge queue (SubmitQueue + Runway) and Parquet"
        + " statistics capture run on it.",
        "Start with 'conveyor demo'; run a node with 'conveyor serve' (status page on http://127.0.0.1:7421/)."},
    subcommands = {DemoCommand.class, ServeCommand.class, CaptureCommand.class, WorkerCommand.class, JobsCommand.class,
        QueueCommand.class, RunwayCommand.class,
        MergeQueueCommands.Land.class, MergeQueueCommands.Status.class, MergeQueueCommands.ListRequests.class,
        MergeQueueCommands.Watch.class, MergeQueueCommands.Cancel.class, BuildCommand.class,
        dev.conveyor.app.admin.AdminCommand.class,
        CommandLine.HelpCommand.class},
    footer = {"", "Ledger: --ledger URL or CONVEYOR_LEDGER; default sqlite:conveyor-data/conveyor.db.",
        "Server: --server HOST:PORT or CONVEYOR_SERVER; default 127.0.0.1:7420.",
        "Run 'conveyor help COMMAND' for a command's options."})
public final class Main implements Runnable {

  public static void main(String[] args) {
    System.exit(run(args));
  }

  /** Runs the CLI and answers its exit code; the entry point tests use. */
  public static int run(String... args) {
    return new CommandLine(new Main())
        .setExecutionExceptionHandler(new ErrorReporter())
        .setParameterExceptionHandler(ErrorReporter::parameterError)
        .execute(args);
  }

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }
}
