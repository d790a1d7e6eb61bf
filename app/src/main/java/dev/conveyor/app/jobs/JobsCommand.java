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

    @Override
    public Integer call() {
      Set<JobState> stateSet = states.stream().map(JobState::parse).collect(Collectors.toSet());
      Set<JobKind> kindSet = kinds.stream().map(JobKind::parse).collect(Collectors.toSet());
      try (Ledger ledger = ledgerOption.open()) {
        List<Job> jobs = ledger.jobs().list(stateSet, kindSet, roots, limit, after);
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

    @Override
    public Integer call() {
      try (Ledger ledger = ledgerOption.open()) {
        Job j = ledger.jobs().get(jobId);
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
      try (Ledger ledger = ledgerOption.open()) {
        JobState state = ledger.jobs().cancel(jobId, reason);
        System.out.println(jobId + " is now " + state
            + (state == JobState.CANCELLING ? " (its holder stops at its next heartbeat)" : ""));
      }
      return 0;
    }
  }
}
