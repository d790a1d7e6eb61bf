package dev.conveyor.runway.merge;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.ledger.testing.MutableClock;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.queue.RunwayQueues;
import dev.conveyor.runway.testing.GitRepos;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.io.TempDir;

/** Real bare repositories in a temp directory and a merger with its own cache beside them. */
abstract class MergerTestBase {
  @TempDir
  Path tmp;

  GitRepos repos;
  RunwayQueues queues;
  GitMerger merger;
  final MutableClock clock = new MutableClock(Instant.parse("2026-11-23T10:00:00Z"));
  PushGate gate = PushGate.NONE;

  @BeforeEach
  void createRepos() {
    repos = GitRepos.create(tmp.resolve("repos"), Map.of(
        "README.md", "hello\n",
        "src/app.txt", "one\ntwo\nthree\nfour\nfive\n",
        "src/lib.txt", "alpha\nbeta\ngamma\n"));
    queues = RunwayQueues.of(QueueConfig.of("app", repos.originUrl(), "main", Strategy.REBASE));
    merger = new GitMerger(new RepositoryCache(tmp.resolve("cache")), clock,
        new org.eclipse.jgit.lib.PersonIdent("Conveyor Runway", "runway@conveyor.invalid"),
        (queue, expected, newTip, attempt) -> gate.beforePush(queue, expected, newTip, attempt));
  }

  @AfterEach
  void closeMerger() {
    merger.close();
  }

  static MergeStep step(String id, Strategy strategy, String... uris) {
    return MergeStep.newBuilder().setStepId(id).setStrategy(strategy)
        .setChange(Change.newBuilder().addAllUris(java.util.List.of(uris))).build();
  }

  static MergeRequest request(String id, MergeStep... steps) {
    return MergeRequest.newBuilder().setId(id).setQueueName("app").addAllSteps(java.util.List.of(steps)).build();
  }

  MergeOutcome merge(MergeRequest request) throws IOException {
    return run(request, false);
  }

  MergeOutcome check(MergeRequest request) throws IOException {
    return run(request, true);
  }

  private MergeOutcome run(MergeRequest request, boolean dryRun) throws IOException {
    try {
      return merger.merge(MergePlans.plan(request, queues, dryRun));
    } catch (MergeRejection r) {
      return MergeOutcome.Failed.of(r);
    }
  }
}
