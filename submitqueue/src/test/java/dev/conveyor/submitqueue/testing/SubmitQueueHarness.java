package dev.conveyor.submitqueue.testing;

import static org.awaitility.Awaitility.await;

import dev.conveyor.api.Contracts;
import dev.conveyor.api.TopicKeys;
import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.HistoryRequest;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.StatusRequest;
import dev.conveyor.api.submitqueue.StatusResponse;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicKey;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.runway.service.RunwayService;
import dev.conveyor.runway.testing.GitRepos;
import dev.conveyor.submitqueue.build.BuildRunners;
import dev.conveyor.submitqueue.build.BuildWorker;
import dev.conveyor.submitqueue.config.BuildIsolation;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.gateway.GatewayService;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.pipeline.SubmitQueuePipeline;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Iterator;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * A whole SubmitQueue on one ledger: a real origin repository, Runway consuming its topics, every
 * stage, an in-process build worker running a real script, and the gateway on a loopback gRPC port.
 * The build script fails when the tree holds a file whose name starts with BROKEN (and, on its first
 * attempt only, with FLAKY) and waits while {@link #holdBuilds()}
 * is in force, so tests can act while builds run.
 */
public final class SubmitQueueHarness implements AutoCloseable {
  public final GitRepos repos;
  public final Path root;
  public final Ledger ledger;
  public final Streams streams;
  public final GitMerger merger;
  public final SubmitQueues queues;
  public final SubmitQueuePipeline pipeline;
  private final RunwayService runway;
  private final BuildWorker builds;
  private final Server server;
  private final ManagedChannel channel;
  private final ScheduledExecutorService watchers = Executors.newScheduledThreadPool(1);
  public final GatewayGrpc.GatewayBlockingStub gateway;
  public final dev.conveyor.api.submitqueue.QueueControlGrpc.QueueControlBlockingStub control;
  public final dev.conveyor.api.submitqueue.ExternalCiGrpc.ExternalCiBlockingStub ci;

  public SubmitQueueHarness(Path root, Ledger ledger, StageDecorator decorator, int buildBudget,
      SubmitQueueConfig.ConflictAnalyzer analyzer) {
    this(root, ledger, decorator, buildBudget, analyzer, 4);
  }

  /** {@code buildParallelism}: build loops of the in-process build worker (supervised by the streams' supervisor). */
  public SubmitQueueHarness(Path root, Ledger ledger, StageDecorator decorator, int buildBudget,
      SubmitQueueConfig.ConflictAnalyzer analyzer, int buildParallelism) {
    this(root, ledger, decorator, buildBudget, analyzer, buildParallelism, java.util.function.UnaryOperator.identity());
  }

  /** {@code tune}: changes the queue's configuration (batching, for one). */
  public SubmitQueueHarness(Path root, Ledger ledger, StageDecorator decorator, int buildBudget,
      SubmitQueueConfig.ConflictAnalyzer analyzer, int buildParallelism,
      java.util.function.UnaryOperator<SubmitQueueConfig> tune) {
    this(root, ledger, decorator, buildBudget, analyzer, buildParallelism, tune,
        java.util.function.UnaryOperator.identity());
  }

  /** {@code tuneQueues}: changes the queues as a whole (a webhook, for one). */
  public SubmitQueueHarness(Path root, Ledger ledger, StageDecorator decorator, int buildBudget,
      SubmitQueueConfig.ConflictAnalyzer analyzer, int buildParallelism,
      java.util.function.UnaryOperator<SubmitQueueConfig> tune, java.util.function.UnaryOperator<SubmitQueues> tuneQueues) {
    this.root = root;
    this.ledger = ledger;
    this.repos = GitRepos.create(root.resolve("repos"), Map.of(
        "README.md", "hello\n",
        "src/app.txt", "one\ntwo\nthree\nfour\nfive\nsix\nseven\neight\n",
        "src/lib.txt", "alpha\nbeta\ngamma\n",
        "docs/guide.txt", "guide\n"));
    // builds are sandboxed: the script and the hold file live in a directory the queue lets builds read
    Path gates = root.resolve("gates");
    Path gate = gates.resolve("build.sh");
    try {
      Files.createDirectories(gates);
      Files.writeString(gate, "while [ -e '" + gates.resolve("hold") + "' ]; do sleep 0.02; done\n"
          + "echo building; ls\n"
          + "if ls | grep -q '^BROKEN'; then echo 'broken: a BROKEN file is present' >&2; exit 3; fi\n"
          + "if ls | grep -q '^FLAKY' && [ \"$CONVEYOR_BUILD_ATTEMPT\" = 1 ]; then echo 'flaky: the first attempt fails'"
          + " >&2; exit 4; fi\n");
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    SubmitQueueConfig app = SubmitQueueConfig.of(
        dev.conveyor.runway.queue.QueueConfig.of("app", repos.originUrl(), "main", Strategy.REBASE),
        "sh " + gate, buildBudget).withAnalyzer(analyzer).withBuildTimeout(Duration.ofSeconds(60))
        .withIsolation(new BuildIsolation(BuildIsolation.Sandbox.AUTO, false, java.util.List.of(gates), Map.of(),
            java.util.Set.of()));
    this.queues = tuneQueues.apply(SubmitQueues.of(tune.apply(app)));
    this.streams = new Streams(ledger, registry());
    this.merger = new GitMerger(new RepositoryCache(root.resolve("runway-cache")), ledger.clock());
    ConsumerOptions options = ConsumerOptions.defaults("x", "node-1")
        .withParallelism(2).withNackBackoff(Duration.ofMillis(100), Duration.ofSeconds(1));
    this.runway = RunwayService.start(streams, merger, queues.runway(), options);
    this.pipeline = SubmitQueuePipeline.start(streams, queues, merger, options, decorator);
    GitMerger buildMerger = new GitMerger(new RepositoryCache(root.resolve("build-cache")), ledger.clock());
    this.builds = new BuildWorker(ledger, pipeline.context().signals(), queues, buildMerger,
        BuildWorker.Options.defaults("builder-1", root.resolve("builds")).withParallelism(buildParallelism)
            .withIdlePoll(Duration.ofMillis(20)).withRunners(BuildRunners.detect(root.resolve("builds"))),
        streams.supervisor()).start();
    try {
      this.server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
          .addService(new GatewayService(ledger, pipeline.admission(), pipeline.cancellation(), watchers))
          .addService(new dev.conveyor.submitqueue.gateway.QueueControlService(ledger, queues,
              pipeline.context().signals(), new dev.conveyor.submitqueue.revert.Reverts(ledger, queues, merger,
                  pipeline.admission(), pipeline.context().signals())))
          .addService(new dev.conveyor.submitqueue.gateway.ExternalCiService(ledger, queues))
          .build().start();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    this.channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
    this.gateway = GatewayGrpc.newBlockingStub(channel);
    this.control = dev.conveyor.api.submitqueue.QueueControlGrpc.newBlockingStub(channel);
    this.ci = dev.conveyor.api.submitqueue.ExternalCiGrpc.newBlockingStub(channel);
  }

  /** Every contract topic with test-sized partitions and quick dead-lettering. */
  public static TopicRegistry registry() {
    TopicRegistry.Builder b = TopicRegistry.builder();
    for (var message : TopicKeys.boundMessages(Contracts.files())) {
      for (String key : TopicKeys.of(message)) {
        b.register(TopicKey.of(key), TopicConfig.defaults(key.replace('.', '-')).withPartitions(2).withMaxAttempts(3)
            .withRetention(Duration.ZERO));
      }
    }
    return b.build();
  }

  public void holdBuilds() throws IOException {
    Files.writeString(root.resolve("gates").resolve("hold"), "");
  }

  public void releaseBuilds() throws IOException {
    Files.deleteIfExists(root.resolve("gates").resolve("hold"));
  }

  public String land(String... uris) {
    return gateway.land(LandRequest.newBuilder().setQueue("app")
        .setChange(Change.newBuilder().addAllUris(List.of(uris))).build()).getRequestId();
  }

  public StatusResponse status(String requestId) {
    return gateway.status(StatusRequest.newBuilder().setRequestId(requestId).build());
  }

  public RequestInfo.State state(String requestId) {
    return status(requestId).getRequest().getState();
  }

  /** Waits (through the gateway's Watch stream) until the request is terminal; answers its final status. */
  public RequestInfo awaitTerminal(String requestId) {
    Iterator<RequestInfo> updates = gateway.withDeadlineAfter(90, TimeUnit.SECONDS)
        .watch(dev.conveyor.api.submitqueue.WatchRequest.newBuilder().setRequestId(requestId).build());
    RequestInfo last = null;
    while (updates.hasNext()) {
      last = updates.next();
    }
    return last;
  }

  public void awaitState(String requestId, RequestInfo.State state) {
    await().atMost(Duration.ofSeconds(60)).until(() -> state(requestId) == state);
  }

  public List<RequestInfo.State> history(String requestId) {
    return gateway.history(HistoryRequest.newBuilder().setRequestId(requestId).build()).getEntriesList().stream()
        .filter(e -> e.getEffect().isEmpty()).map(e -> e.getState()).toList();
  }

  /** The effects in a request's history (builds' verdicts, merges), as read from their claims. */
  public List<String> effects(String requestId) {
    return gateway.history(HistoryRequest.newBuilder().setRequestId(requestId).build()).getEntriesList().stream()
        .filter(e -> !e.getEffect().isEmpty()).map(e -> e.getEffect()).toList();
  }

  /** BUILD jobs ever made (one per speculative path built). */
  public long buildsMade() {
    return ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE kind = 'BUILD'"));
  }

  /** BUILD jobs currently running (leased). */
  public long runningBuilds() {
    return ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE kind = 'BUILD' AND state = 'RUNNING'"));
  }

  @Override
  public void close() {
    channel.shutdownNow();
    server.shutdownNow();
    watchers.shutdownNow();
    try {
      releaseBuilds();
    } catch (IOException e) {
      // best effort
    }
    builds.close();
    pipeline.close();
    runway.close();
    merger.close();
    streams.close();
  }
}
