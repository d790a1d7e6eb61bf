package dev.conveyor.app.runway;

import dev.conveyor.app.wiring.Topics;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.stream.Streams;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.runway.queue.RunwayQueues;
import dev.conveyor.runway.service.RunwayService;
import java.nio.file.Path;
import java.time.Clock;

/** Runway inside {@code conveyor serve}: its consumers on the process's ledger, its cache in the data directory. */
public final class RunwayNode implements AutoCloseable {
  private final Streams streams;
  private final GitMerger merger;
  private final RunwayService service;

  private RunwayNode(Streams streams, GitMerger merger, RunwayService service) {
    this.streams = streams;
    this.merger = merger;
    this.service = service;
  }

  public static RunwayNode start(Ledger ledger, RunwayQueues queues, Path dataDir, String memberId) {
    Streams streams = new Streams(ledger, Topics.registry());
    GitMerger merger = new GitMerger(new RepositoryCache(dataDir.resolve("runway-cache")), Clock.systemUTC());
    RunwayService service = RunwayService.start(streams, merger, queues,
        ConsumerOptions.defaults(RunwayService.GROUP, memberId));
    return new RunwayNode(streams, merger, service);
  }

  @Override
  public void close() {
    service.close();
    merger.close();
    streams.close();
  }
}
