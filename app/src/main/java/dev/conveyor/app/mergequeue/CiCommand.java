package dev.conveyor.app.mergequeue;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.submitqueue.CiBuild;
import dev.conveyor.api.submitqueue.ExternalCiGrpc;
import dev.conveyor.api.submitqueue.ListPendingRequest;
import dev.conveyor.api.submitqueue.ListPendingResponse;
import dev.conveyor.api.submitqueue.ReportCheckRequest;
import dev.conveyor.app.cli.ServerOption;
import java.io.PrintStream;
import java.time.Instant;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.ArgGroup;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

/** What an external CI runs: list the builds waiting for it, report a check's verdict (the ci-reporter role). */
@Command(name = "ci", mixinStandardHelpOptions = true,
    description = "External CI for queues with build-runner = external: each build is a commit on a staging ref"
        + " (refs/conveyor/QUEUE/...) on the queue's remote; CI builds it and reports each required check.",
    subcommands = {CiCommand.Pending.class, CiCommand.Report.class})
public final class CiCommand implements Runnable {
  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  @Command(name = "pending", mixinStandardHelpOptions = true,
      description = "Builds waiting for CI, oldest first: id, queue, staging ref, commit and each check's state.")
  public static final class Pending implements Callable<Integer> {
    @Mixin ServerOption server;

    @Option(names = "--queue", description = "Only this queue's builds.")
    String queue;

    @Option(names = "--json", description = "Print the list as JSON (protobuf field names).")
    boolean json;

    @Override
    public Integer call() {
      ListPendingResponse list = ci(server, c -> c.listPending(ListPendingRequest.newBuilder()
          .setQueue(queue == null ? "" : queue).build()));
      if (json) {
        System.out.println(ProtoJson.toJson(list));
      } else {
        print(list, System.out);
      }
      return 0;
    }
  }

  @Command(name = "report", mixinStandardHelpOptions = true,
      description = "Report one check's verdict for a build: it passes once every required check passed, and"
          + " fails on the first failed check.")
  public static final class Report implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "BUILD_ID", description = "As 'conveyor ci pending' lists it.")
    String buildId;

    static final class Verdict {
      @Option(names = "--passed", required = true, description = "The check passed.")
      boolean passed;

      @Option(names = "--failed", required = true, description = "The check failed.")
      boolean failed;
    }

    @ArgGroup(exclusive = true, multiplicity = "1")
    Verdict verdict;

    @Option(names = "--check", description = "The check's name; may be left out when the queue requires one check.")
    String check;

    @Option(names = "--url", description = "Where the CI run can be read (http or https); shown with a failure.")
    String url;

    @Option(names = "--sha", description = "The commit CI built; a report for another commit than the build's is refused.")
    String sha;

    @Option(names = "--reported-by", defaultValue = "ci", description = "The reporting CI's name (default: ${DEFAULT-VALUE}).")
    String reportedBy;

    @Override
    public Integer call() {
      CiBuild build = ci(server, c -> c.reportCheck(ReportCheckRequest.newBuilder().setBuildId(buildId)
          .setCheck(check == null ? "" : check).setPassed(verdict.passed).setUrl(url == null ? "" : url)
          .setReportedBy(reportedBy).setSha(sha == null ? "" : sha).build()));
      System.out.println("build " + build.getBuildId() + ": " + build.getState()
          + (build.getReason().isEmpty() ? "" : " (" + build.getReason() + ")"));
      printChecks(build, System.out);
      return 0;
    }
  }

  static void print(ListPendingResponse list, PrintStream out) {
    if (list.getBuildsCount() == 0) {
      out.println("no builds are waiting for CI");
      return;
    }
    for (CiBuild b : list.getBuildsList()) {
      out.println(b.getBuildId() + "  " + b.getQueue() + "  " + b.getRef() + "  " + b.getSha()
          + "  waiting since " + Instant.ofEpochMilli(b.getCreatedAtMs()) + ", until " + Instant.ofEpochMilli(b.getDeadlineMs()));
      out.println("  fetch: git fetch " + b.getRemote() + " " + b.getRef());
      printChecks(b, out);
    }
  }

  private static void printChecks(CiBuild b, PrintStream out) {
    for (var c : b.getChecksList()) {
      out.println("  check " + c.getName() + ": " + c.getState() + (c.getUrl().isEmpty() ? "" : "  " + c.getUrl()));
    }
  }

  private static <T> T ci(ServerOption server, Function<ExternalCiGrpc.ExternalCiBlockingStub, T> call) {
    var channel = server.channel();
    try {
      var stub = ExternalCiGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      var creds = server.credentials();
      return call.apply(creds == null ? stub : stub.withCallCredentials(creds));
    } finally {
      channel.shutdownNow();
    }
  }
}
