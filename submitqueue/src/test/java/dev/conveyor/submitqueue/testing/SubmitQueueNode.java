package dev.conveyor.submitqueue.testing;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.messagequeue.topic.TopicConfig;
import dev.conveyor.messagequeue.topic.TopicRegistry;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.service.RunwayService;
import dev.conveyor.submitqueue.build.BuildWorker;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.gateway.GatewayService;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.pipeline.SubmitQueuePipeline;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * A whole merge-queue node in a child JVM, for the crash test: args are the ledger URL, the origin
 * repository, the build command and the node's data directory. Prints "port N" and "ready", then
 * runs until killed. Leases are short so a restarted node takes over quickly.
 */
public final class SubmitQueueNode {
  private SubmitQueueNode() {}

  public static void main(String[] args) throws Exception {
    Ledger ledger = Ledger.open(args[0], Clock.systemUTC());
    Path data = Path.of(args[3]);
    TopicRegistry.Builder b = TopicRegistry.builder();
    SubmitQueueHarness.registry().all().forEach((key, config) -> b.register(key,
        config.withVisibilityTimeout(Duration.ofSeconds(3)).withMaxAttempts(20)));
    Streams streams = new Streams(ledger, b.build());
    SubmitQueues queues = SubmitQueues.of(SubmitQueueConfig.of(QueueConfig.of("app", args[1], "main",
        Strategy.REBASE), args[2], 4).withBuildTimeout(Duration.ofSeconds(60)));
    GitMerger merger = new GitMerger(new RepositoryCache(data.resolve("runway-cache")), Clock.systemUTC());
    ConsumerOptions options = ConsumerOptions.defaults("x", "node")
        .withLeaseTtl(Duration.ofSeconds(3)).withNackBackoff(Duration.ofMillis(200), Duration.ofSeconds(2));
    RunwayService.start(streams, merger, queues.runway(), options);
    SubmitQueuePipeline pipeline = SubmitQueuePipeline.start(streams, queues, merger, options, StageDecorator.NONE);
    new BuildWorker(ledger, pipeline.context().signals(), queues,
        new GitMerger(new RepositoryCache(data.resolve("build-cache")), Clock.systemUTC()),
        new BuildWorker.Options("builder", 4, Duration.ofSeconds(3), Duration.ofMillis(50), data.resolve("builds"),
            dev.conveyor.submitqueue.build.BuildObserver.NONE))
        .start();
    var reaper = Executors.newSingleThreadScheduledExecutor();
    reaper.scheduleWithFixedDelay(() -> ledger.jobs().reapExpired(100), 500, 500, TimeUnit.MILLISECONDS);
    var server = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0))
        .addService(new GatewayService(ledger, pipeline.admission(), pipeline.cancellation(),
            Executors.newScheduledThreadPool(1)))
        .addService(new dev.conveyor.submitqueue.gateway.QueueControlService(ledger, queues,
            pipeline.context().signals(), new dev.conveyor.submitqueue.revert.Reverts(ledger, queues, merger,
                pipeline.admission(), pipeline.context().signals())))
        .build().start();
    System.out.println("port " + server.getPort());
    System.out.println("ready");
    System.out.flush();
    server.awaitTermination();
  }
}
