package dev.conveyor.app.jobs;

import dev.conveyor.app.cli.LedgerOption;
import dev.conveyor.app.cli.Table;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobState;
import java.time.Instant;
import java.time.ZoneOffset;
import java.time.format.DateTimeFormatter;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.stream.Collectors;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "jobs", mixinStandardHelpOptions = true,
    description = "Look inside the ledger's leased jobs: list, show (with the job tree), cancel.",
    subcommands = {JobsCommand.ListJobs.class, JobsCommand.ShowJob.class, JobsCommand.CancelJob.class})
public final class JobsCommand implements Runnable {
  private static final DateTimeFormatter TIME = DateTimeFormatter.ofPattern("yyyy-MM-dd HH:mm:ss").withZone(ZoneOffset.UTC);

  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  static String time(Instant t) {
    return t == null ? "-" : TIME.format(t);
  }

  @Command(name = "list", mixinStandardHelpOptions = true, description = "List jobs, oldest first.")
  static final class ListJobs implements Callable<Integer> {
    @Mixin LedgerOption ledgerOption;

    @Option(names = "--state", paramLabel = "STATE", split = ",",
        description = "Only these states (QUEUED, RUNNING, WAITING, CANCELLING, SUCCEEDED, FAILED, CANCELLED).")
    List<String> states = List.of();

    @Option(names = "--kind", paramLabel = "KIND", split = ",", description = "Only these job kinds.")
    List<String> kinds = List.of();

    @Option(names = "--roots", description = "Only root jobs (no parent).")
    boolean roots;

    @Option(names = "--limit", defaultValue = "50", description = "At most this many jobs (default: ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--after", paramLabel = "JOB_ID", description = "Start after this job id (paging).")
    String after;

    @Option(names = "--json", description = "JSON: {\"jobs\": [job…]}, each job as 'jobs show --json' prints it"
        + " without its tree.")
    boolean json;

    @Override
    public Integer call() {
      Set<JobState> stateSet = states.stream().map(JobState::parse).collect(Collectors.toSet());
      Set<JobKind> kindSet = kinds.stream().map(JobKind::parse).collect(Collectors.toSet());
      try (Ledger ledger = ledgerOption.openExisting()) {
        List<Job> jobs = ledger.jobs().list(stateSet, kindSet, roots, limit, after);
        if (json) {
          var out = dev.conveyor.app.cli.JsonRows.object();
          var list = out.putArray("jobs");
          jobs.forEach(j -> list.add(json(j)));
          dev.conveyor.app.cli.JsonRows.print(out);
          return 0;
        }
        Table table = new Table("ID", "KIND", "STATE", "ATTEMPTS", "PARENT", "CREATED", "LAST ERROR");
        for (Job j : jobs) {
          table.row(j.id(), j.kind(), j.state(), j.attempts() + "/" + j.maxAttempts(), j.parentId(),
              time(j.createdAt()), j.lastError());
        }
        table.printOr(System.out, "no jobs match");
      }
      return 0;
    }
  }

  @Command(name = "show", mixinStandardHelpOptions = true, description = "Show one job and its tree.")
  static final class ShowJob implements Callable<Integer> {
    @Mixin LedgerOption ledgerOption;

    @Parameters(paramLabel = "JOB_ID", description = "The job to show.")
    String jobId;

    @Option(names = "--json", description = "JSON: {\"id\", \"kind\", \"state\", \"attempts\", \"max_attempts\","
        + " \"parent_id\", \"root_id\", \"lease_owner\", \"lease_expires_at\", \"progress\": {\"done\", \"total\","
        + " \"failed\", \"bytes\", \"message\"}, \"created_at\", \"started_at\", \"finished_at\", \"last_error\","
        + " \"children\": [job…]}.")
    boolean json;

    @Override
    public Integer call() {
      try (Ledger ledger = ledgerOption.openExisting()) {
        Job j = ledger.jobs().get(jobId);
        if (json) {
          dev.conveyor.app.cli.JsonRows.print(json(ledger.jobs().tree(jobId)));
          return 0;
        }
        Table t = new Table("FIELD", "VALUE");
        t.row("id", j.id()).row("kind", j.kind()).row("state", j.state())
            .row("class / lane", j.executionClass() + " / " + j.lane())
            .row("lane key", j.laneKey()).row("pinned executor", j.pinnedExecutorId())
            .row("attempts", j.attempts() + " of " + j.maxAttempts())
            .row("parent", j.parentId()).row("root", j.rootId())
            .row("lease owner", j.leaseOwner()).row("lease expires", time(j.leaseExpiresAt()))
            .row("run after", time(j.runAfter()))
            .row("progress", j.progress().done() + "/" + j.progress().total() + " done, " + j.progress().failed()
                + " failed" + (j.progress().message() == null ? "" : " — " + j.progress().message()))
            .row("created", time(j.createdAt())).row("started", time(j.startedAt()))
            .row("finished", time(j.finishedAt())).row("last error", j.lastError())
            .row("payload", j.payload().length + " bytes");
        t.print(System.out);
        System.out.println();
        JobTreePrinter.print(ledger.jobs().tree(jobId), System.out);
      }
      return 0;
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true,
      description = "Cancel a job and its descendants: queued/waiting end at once, running ones are asked to stop.")
  static final class CancelJob implements Callable<Integer> {
    @Mixin LedgerOption ledgerOption;

    @Parameters(paramLabel = "JOB_ID", description = "The job to cancel.")
    String jobId;

    @Option(names = "--reason", defaultValue = "cancelled from the CLI", description = "Recorded as the job's error.")
    String reason;

    @Override
    public Integer call() {
      try (Ledger ledger = ledgerOption.openExisting()) {
        JobState state = ledger.jobs().cancel(jobId, reason);
        System.out.println(jobId + " is now " + state
            + (state == JobState.CANCELLING ? " (its holder stops at its next heartbeat)" : ""));
      }
      return 0;
    }
  }

  /** A job with its children, recursively. */
  static com.fasterxml.jackson.databind.node.ObjectNode json(dev.conveyor.ledger.jobs.Outcomes.JobTree tree) {
    var o = json(tree.job());
    var children = o.putArray("children");
    tree.children().forEach(c -> children.add(json(c)));
    return o;
  }

  /** One job as the --json outputs show it. */
  static com.fasterxml.jackson.databind.node.ObjectNode json(Job j) {
    var o = dev.conveyor.app.cli.JsonRows.object();
    o.put("id", j.id());
    o.put("kind", j.kind().name());
    o.put("state", j.state().name());
    o.put("attempts", j.attempts());
    o.put("max_attempts", j.maxAttempts());
    o.put("parent_id", j.parentId());
    o.put("root_id", j.rootId());
    o.put("lease_owner", j.leaseOwner());
    dev.conveyor.app.cli.JsonRows.put(o, "lease_expires_at", j.leaseExpiresAt());
    var p = o.putObject("progress");
    p.put("done", j.progress().done());
    p.put("total", j.progress().total());
    p.put("failed", j.progress().failed());
    p.put("bytes", j.progress().bytes());
    p.put("message", j.progress().message());
    dev.conveyor.app.cli.JsonRows.put(o, "created_at", j.createdAt());
    dev.conveyor.app.cli.JsonRows.put(o, "started_at", j.startedAt());
    dev.conveyor.app.cli.JsonRows.put(o, "finished_at", j.finishedAt());
    o.put("last_error", j.lastError());
    return o;
  }
}
