package dev.conveyor.app.runway;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.api.runway.Outcome;
import dev.conveyor.api.runway.StepResult;
import dev.conveyor.app.cli.ErrorReporter;
import dev.conveyor.app.cli.Table;
import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.MergeOutcome;
import dev.conveyor.runway.merge.MergePlans;
import dev.conveyor.runway.merge.MergeRejection;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.runway.queue.RunwayQueues;
import dev.conveyor.runway.service.MergeResults;
import java.nio.file.Path;
import java.time.Clock;
import java.util.List;
import java.util.UUID;
import java.util.concurrent.Callable;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;

@Command(name = "runway", mixinStandardHelpOptions = true,
    description = "Runway, the git merge service: run a merge or a dry run by hand, list the configured queues.",
    subcommands = {RunwayCommand.Merge.class, RunwayCommand.Queues.class})
public final class RunwayCommand implements Runnable {
  @Override
  public void run() {
    new picocli.CommandLine(this).usage(System.out);
  }

  @Command(name = "merge", mixinStandardHelpOptions = true,
      description = "Apply changes to a queue's target branch in order and push once (or only check, with --dry-run)."
          + " Each --change is one step.",
      footer = {"", "A change URI is " + ChangeUri.FORM + ": a commit of a configured remote ('origin' is the"
          + " queue's repository), named by a ref that contains it and its full SHA.",
          "", "Exit code 0 when the merge succeeded, 1 when it failed (the reason names the step and paths)."})
  static final class Merge implements Callable<Integer> {
    @Option(names = "--queue", required = true, description = "Queue to merge into.")
    String queue;

    @Option(names = "--change", required = true, paramLabel = "URI", description = "A change to land; repeat for a stack.")
    List<String> changes;

    @Option(names = "--strategy", defaultValue = "DEFAULT",
        description = "REBASE, SQUASH_REBASE, MERGE, PROMOTE or DEFAULT (the queue's). Default: ${DEFAULT-VALUE}.")
    Strategy strategy;

    @Option(names = "--dry-run", description = "Only check that every step applies to the current tip; push nothing.")
    boolean dryRun;

    @Option(names = "--json", description = "Print the MergeResult as Runway publishes it (protobuf JSON).")
    boolean json;

    @Option(names = "--data-dir", defaultValue = "conveyor-data",
        description = "Data directory; the repository cache lives in its runway-cache (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Mixin RunwayQueuesOption queues;

    @Override
    public Integer call() throws Exception {
      RunwayQueues configured = queues.load(dataDir, queue);
      MergeRequest.Builder request = MergeRequest.newBuilder().setId("cli-" + UUID.randomUUID()).setQueueName(queue);
      for (int i = 0; i < changes.size(); i++) {
        request.addSteps(MergeStep.newBuilder().setStepId(String.valueOf(i + 1)).setStrategy(strategy)
            .setChange(Change.newBuilder().addUris(changes.get(i))));
      }
      MergeRequest built = request.build();
      MergeResult result;
      MergeOutcome outcome = null;
      try (GitMerger merger = new GitMerger(new RepositoryCache(dataDir.resolve("runway-cache")), Clock.systemUTC())) {
        outcome = merger.merge(MergePlans.plan(built, configured, dryRun));
        result = MergeResults.of(built, outcome);
      } catch (MergeRejection r) {
        result = MergeResults.failed(built, r.stepId(), r.describe());
      }
      if (json) {
        System.out.println(ProtoJson.toJson(result));
      } else {
        print(result, outcome);
      }
      return result.getOutcome() == Outcome.SUCCEEDED ? 0 : ErrorReporter.EXIT_FAILURE;
    }

    private void print(MergeResult result, MergeOutcome outcome) {
      String what = dryRun ? "dry run" : "merge";
      if (outcome instanceof MergeOutcome.Succeeded s) {
        String tips = s.oldTip().abbreviate(12).name() + " -> " + s.newTip().abbreviate(12).name();
        System.out.println(what + " into queue " + queue + ": SUCCEEDED, " + (dryRun ? "would move " + tips
            : s.pushed() ? "pushed " + tips : "nothing to push, every change already present"));
      } else {
        System.out.println(what + " into queue " + queue + ": FAILED, nothing pushed");
        System.out.println("reason: " + result.getReason());
      }
      Table table = new Table("STEP", "CHANGE", "OUTPUTS", "NOTE");
      for (int i = 0; i < result.getStepsCount(); i++) {
        StepResult step = result.getSteps(i);
        table.row(step.getStepId(), changes.get(i), step.getOutputsCount() == 0 ? "-"
            : String.join(",", step.getOutputsList()), step.getReason().isEmpty() ? "-" : step.getReason());
      }
      table.print(System.out);
    }
  }

  @Command(name = "queues", mixinStandardHelpOptions = true, description = "List the configured merge queues.")
  static final class Queues implements Callable<Integer> {
    @Option(names = "--data-dir", defaultValue = "conveyor-data", description = "Data directory (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--queues", paramLabel = "FILE", description = "Default: <data-dir>/queues.properties.")
    Path file;

    @Override
    public Integer call() throws Exception {
      Path f = file != null ? file : RunwayQueuesOption.defaultFile(dataDir);
      if (!java.nio.file.Files.exists(f)) {
        throw new ErrorReporter.UserError("no Runway queue configuration at " + f,
            "write one (see 'conveyor runway merge --help') or pass --queues FILE");
      }
      Table table = new Table("QUEUE", "REMOTE", "BRANCH", "DEFAULT", "PUSH ATTEMPTS", "OTHER REMOTES");
      for (var q : RunwayQueues.load(f, dev.conveyor.submitqueue.config.SubmitQueues.SETTINGS).all()) {
        table.row(q.name(), q.origin(), q.branch(), q.defaultStrategy(), q.pushAttempts(),
            q.remotes().keySet().stream().filter(a -> !a.equals("origin")).sorted().toList());
      }
      table.printOr(System.out, "no queues in " + f);
      return 0;
    }
  }
}
