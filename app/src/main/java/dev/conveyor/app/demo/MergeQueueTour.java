package dev.conveyor.app.demo;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.StatusRequest;
import dev.conveyor.app.cli.Table;
import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.LocalToken;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.runway.sample.SampleRepository;
import dev.conveyor.submitqueue.config.SubmitQueues;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.PrintStream;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;

/**
 * The merge-queue part of the demo: a sample repository with a handful of changes (two editing the
 * same line, one whose build fails, a two-commit stack), the server with Runway, SubmitQueue and a
 * build worker, every change landed through the gateway and followed to its end.
 */
final class MergeQueueTour {
  private static final Set<RequestInfo.State> TERMINAL =
      Set.of(RequestInfo.State.LANDED, RequestInfo.State.ERROR, RequestInfo.State.CANCELLED);

  private MergeQueueTour() {}

  /** Writes the sample repository and the queue that serves it. */
  static Prepared prepare(Path dataDir, PrintStream out) throws Exception {
    Path repoDir = dataDir.toAbsolutePath().resolve("demo-repo-" + System.currentTimeMillis());
    SampleRepository.Created repo = SampleRepository.create(repoDir);
    Path queues = dataDir.resolve("demo-queues.properties");
    Files.writeString(queues, "queue.demo.remote = " + repo.origin() + "\n"
        + "queue.demo.build-command = test ! -e BROKEN\n"
        + "queue.demo.build-budget = 4\n");
    out.println("  queue     sample repository " + repo.origin() + " with " + repo.changes().size() + " changes");
    return new Prepared(repo, SubmitQueues.load(queues));
  }

  record Prepared(SampleRepository.Created repo, SubmitQueues queues) {}

  /** Answers whether every request reached the outcome its change was made for. */
  static boolean run(ControlPlane plane, Path dataDir, Prepared prepared, PrintStream out) throws Exception {
    SampleRepository.Created repo = prepared.repo();
    var channel = NettyChannelBuilder.forAddress("127.0.0.1", plane.port()).usePlaintext().build();
    try {
      String token = LocalToken.read(dataDir.resolve(LocalToken.FILE_NAME));
      var gateway = GatewayGrpc.newBlockingStub(channel).withCallCredentials(new BearerCredentials(() -> token));
      Map<String, String> requestOf = new LinkedHashMap<>();
      for (var change : repo.changes().entrySet()) {
        String id = gateway.land(LandRequest.newBuilder().setQueue("demo")
            .setChange(Change.newBuilder().addAllUris(java.util.List.of(change.getValue()))).build()).getRequestId();
        requestOf.put(change.getKey(), id);
        out.println("  queue     landed " + change.getKey() + " as " + id);
      }
      Map<String, RequestInfo> last = new LinkedHashMap<>();
      long deadline = System.currentTimeMillis() + 120_000;
      while (System.currentTimeMillis() < deadline) {
        boolean done = true;
        for (var e : requestOf.entrySet()) {
          RequestInfo info = gateway.status(StatusRequest.newBuilder().setRequestId(e.getValue()).build())
              .getRequest();
          RequestInfo before = last.put(e.getKey(), info);
          if (before == null || before.getState() != info.getState()) {
            long ended = last.values().stream().filter(i -> TERMINAL.contains(i.getState())).count();
            out.println("  queue     " + dev.conveyor.app.jobs.JobTreePrinter.bar(ended, requestOf.size()) + " "
                + ended + "/" + requestOf.size() + " ended  " + info.getRequestId() + " " + info.getState());
          }
          done &= TERMINAL.contains(info.getState());
        }
        if (done) {
          break;
        }
        TimeUnit.MILLISECONDS.sleep(200);
      }
      out.println();
      out.println("Merge queue summary (queue demo, target branch main)");
      Table table = new Table("REQUEST", "CHANGE", "STATE", "WHY");
      last.forEach((name, info) -> table.row(info.getRequestId(), name, info.getState(),
          info.getReason().isEmpty() ? "-" : info.getReason().lines().findFirst().orElse("")));
      table.print(out);
      return last.values().stream().allMatch(i -> TERMINAL.contains(i.getState()))
          && last.get("docs").getState() == RequestInfo.State.LANDED
          && last.get("broken").getState() == RequestInfo.State.ERROR;
    } finally {
      channel.shutdownNow();
    }
  }
}
