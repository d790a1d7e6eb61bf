package dev.conveyor.app.mergequeue;

import dev.conveyor.app.wiring.Topics;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.runway.service.RunwayService;
import dev.conveyor.submitqueue.build.BuildRunners;
import dev.conveyor.submitqueue.build.BuildWorker;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.gateway.GatewayService;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.pipeline.SubmitQueuePipeline;
import dev.conveyor.supervise.Supervisor;
import java.nio.file.Path;
import java.time.Clock;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;

/**
 * The merge queue inside {@code conveyor serve}: Runway for every configured queue; for queues with
 * a build command, SubmitQueue's stages, its gateway and (unless switched off) a build worker.
 * Git caches and build directories live in the data directory.
 */
public final class MergeQueueNode implements AutoCloseable {
  private final Streams streams;
  private final Merger merger;
  private final RunwayService runway;
  private final SubmitQueuePipeline pipeline;
  private final BuildWorker builds;
  private final GatewayService gateway;
  private final ScheduledExecutorService watchers;

  private MergeQueueNode(Streams streams, Merger merger, RunwayService runway, SubmitQueuePipeline pipeline,
      BuildWorker builds, GatewayService gateway, ScheduledExecutorService watchers) {
    this.streams = streams;
    this.merger = merger;
    this.runway = runway;
    this.pipeline = pipeline;
    this.builds = builds;
    this.gateway = gateway;
    this.watchers = watchers;
  }

  /** What the node reports its work to (metrics): stage handlers, merges, builds. */
  public record Observers(StageDecorator stages, dev.conveyor.runway.merge.MergeObserver merges,
      dev.conveyor.submitqueue.build.BuildObserver builds,
      dev.conveyor.submitqueue.pipeline.StageOutcomes stageOutcomes) {
    public static Observers none() {
      return new Observers(StageDecorator.NONE, dev.conveyor.runway.merge.MergeObserver.NONE,
          dev.conveyor.submitqueue.build.BuildObserver.NONE, new dev.conveyor.submitqueue.pipeline.StageOutcomes());
    }
  }

  /** {@code supervisor} keeps every consumer loop and the build worker alive and reports their health. */
  public static MergeQueueNode start(Ledger ledger, SubmitQueues queues, Path dataDir, String memberId,
      int buildParallelism, Observers observers, Supervisor supervisor) {
    return start(ledger, queues, dataDir, memberId, buildParallelism, observers, supervisor,
        dev.conveyor.submitqueue.build.LogLimits.DEFAULT);
  }

  /** {@code logLimits}: how much of each build's output the ledger keeps. */
  public static MergeQueueNode start(Ledger ledger, SubmitQueues queues, Path dataDir, String memberId,
      int buildParallelism, Observers observers, Supervisor supervisor,
      dev.conveyor.submitqueue.build.LogLimits logLimits) {
    StageDecorator stages = observers.stages();
    BuildRunners runners = BuildRunners.detect(dataDir);
    if (buildParallelism > 0) {
      runners.check(queues); // before anything starts: a queue this node cannot build as configured stops it
    }
    for (var q : queues.all()) { // targets-command runs each change's code during validation, on this node
      if (queues.targets(q.name()).isPresent() && BuildRunners.bubblewrapUnavailable().isPresent()) {
        throw new IllegalArgumentException("queue." + q.name() + ".conflict-analyzer = targets runs each change's"
            + " targets-command in bubblewrap, but " + BuildRunners.bubblewrapUnavailable().get());
      }
    }
    Streams streams = new Streams(ledger, Topics.registry(), supervisor);
    Merger merger = new GitMerger(new RepositoryCache(dataDir.resolve("runway-cache")), Clock.systemUTC(),
        observers.merges());
    ConsumerOptions options = ConsumerOptions.defaults(RunwayService.GROUP, memberId);
    RunwayService runway = RunwayService.start(streams, merger, queues.runway(), options);
    if (queues.all().isEmpty()) {
      return new MergeQueueNode(streams, merger, runway, null, null, null, null);
    }
    SubmitQueuePipeline pipeline = SubmitQueuePipeline.start(streams, queues, merger, options, stages,
        observers.stageOutcomes());
    BuildWorker builds = buildParallelism <= 0 ? null : new BuildWorker(ledger, pipeline.context().signals(), queues,
        new GitMerger(new RepositoryCache(dataDir.resolve("build-cache")), Clock.systemUTC()),
        BuildWorker.Options.defaults(memberId + "-builds", dataDir.resolve("builds"))
            .withParallelism(buildParallelism).withObserver(observers.builds())
            .withIdlePoll(java.time.Duration.ofSeconds(10)) // woken by the ledger; the poll is a fallback
            .withRunners(runners).withLogLimits(logLimits), supervisor).start();
    ScheduledExecutorService watchers = Executors.newScheduledThreadPool(1, r -> {
      Thread t = new Thread(r, "gateway-watch");
      t.setDaemon(true);
      return t;
    });
    GatewayService gateway = new GatewayService(ledger, pipeline.admission(), pipeline.cancellation(), watchers);
    return new MergeQueueNode(streams, merger, runway, pipeline, builds, gateway, watchers);
  }

  /** Pause, drain and resume (the QueueControl service), or null when no queue has a build command. */
  public dev.conveyor.submitqueue.gateway.QueueControlService queueControl() {
    if (pipeline == null) {
      return null;
    }
    var ctx = pipeline.context();
    return new dev.conveyor.submitqueue.gateway.QueueControlService(ctx.ledger(), ctx.queues(), ctx.signals(),
        new dev.conveyor.submitqueue.revert.Reverts(ctx.ledger(), ctx.queues(), merger, pipeline.admission(),
            ctx.signals()));
  }

  /** What external CI calls (list waiting builds, report checks), or null when no queue has a build command. */
  public dev.conveyor.submitqueue.gateway.ExternalCiService externalCi() {
    return pipeline == null ? null : new dev.conveyor.submitqueue.gateway.ExternalCiService(
        pipeline.context().ledger(), pipeline.context().queues());
  }

  /** The SubmitQueue gateway, or null when no queue has a build command. */
  /** The merge queue's dead letters, re-driven through this node's publisher (its consumers wake at once). */
  public dev.conveyor.messagequeue.consume.DeadLetters deadLetters(Ledger ledger) {
    return new dev.conveyor.messagequeue.consume.DeadLetters(ledger, streams.registry(), streams.publisher());
  }

  public GatewayService gateway() {
    return gateway;
  }

  public boolean runsSubmitQueue() {
    return pipeline != null;
  }

  /** Whether this node runs a build worker (a queue with a build command and build parallelism above 0). */
  public boolean runsBuildWorker() {
    return builds != null;
  }

  /** Which builds run sandboxed and which do not, one line each; empty when this node runs no builds. */
  public java.util.List<String> buildSandbox() {
    return builds == null ? java.util.List.of() : builds.sandboxSummary();
  }

  @Override
  public void close() {
    close(java.time.Duration.ZERO);
  }

  /** Builds get {@code grace} to finish before they are handed back; stages finish the message in hand. */
  public void close(java.time.Duration grace) {
    if (watchers != null) {
      watchers.shutdownNow();
    }
    if (builds != null) {
      builds.close(grace);
    }
    if (pipeline != null) {
      pipeline.close();
    }
    runway.close();
    merger.close();
    streams.close();
  }
}
