package dev.conveyor.bench;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.HistoryEntry;
import dev.conveyor.api.submitqueue.HistoryRequest;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.WatchRequest;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.LocalToken;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The latency of one change on a quiet queue, through a real {@code serve} (SQLite, gRPC on loopback):
 * each of {@link #CHANGES} changes is landed only after the one before it has landed, with a build of
 * {@code sleep --build-ms}; prints the median time from the land call to LANDED and, from the request's
 * history, the median time spent reaching each state, so a slow hand-off shows where it is.
 */
final class QuietQueueBench {
  private static final int CHANGES = 5;

  private QuietQueueBench() {}

  static boolean run(BenchArgs a) throws Exception {
    Path root = Path.of(System.getProperty("conveyor.root", ".")).toAbsolutePath().normalize();
    Path dir = Files.createTempDirectory("conveyor-quiet-bench");
    try {
      GitOrigin git = GitOrigin.create(dir);
      String settings = "capture-worker = false\nqueue.quiet.remote = " + git.origin() + "\nqueue.quiet.build-command = sleep "
          + (a.buildMs() / 1000.0) + "\nqueue.quiet.build-budget = 4\n";
      try (ServeProcess serve = ServeProcess.start(root, dir.resolve("data"), settings)) {
        serve.awaitReady();
        var channel = NettyChannelBuilder.forAddress("127.0.0.1", serve.grpcPort()).usePlaintext().build();
        try {
          String token = LocalToken.read(serve.dataDir().resolve(LocalToken.FILE_NAME));
          var gateway = GatewayGrpc.newBlockingStub(channel).withCallCredentials(new BearerCredentials(() -> token));
          List<Double> totals = new ArrayList<>();
          Map<RequestInfo.State, List<Double>> reach = new LinkedHashMap<>();
          for (int i = 0; i < CHANGES + 1; i++) {
            String uri = git.pushChange(i);
            long t0 = System.nanoTime();
            String id = gateway.withDeadlineAfter(30, TimeUnit.SECONDS).land(LandRequest.newBuilder().setQueue("quiet")
                .setChange(Change.newBuilder().addUris(uri)).build()).getRequestId();
            RequestInfo.State end = follow(gateway, id);
            double seconds = (System.nanoTime() - t0) / 1e9;
            if (end != RequestInfo.State.LANDED) {
              throw new IllegalStateException("request " + id + " ended " + end);
            }
            if (i == 0) {
              continue; // the first change warms serve's caches and JIT; it is not a quiet queue's typical change
            }
            totals.add(seconds);
            List<HistoryEntry> history = gateway.history(HistoryRequest.newBuilder().setRequestId(id).build())
                .getEntriesList();
            long started = history.get(0).getAtMs();
            for (HistoryEntry e : history) {
              if (!e.getEffect().isEmpty()) {
                continue; // a build's verdict or a merge, interleaved from their claims: not a state
              }
              reach.computeIfAbsent(e.getState(), s -> new ArrayList<>()).add((e.getAtMs() - started) / 1000.0);
            }
          }
          System.out.printf("quiet queue (SQLite, build = sleep %d ms, %d changes one after another):"
              + " land call -> LANDED median %.2f s (target: build + 1.5 s = %.1f s: %s)%n", a.buildMs(), CHANGES,
              median(totals), a.buildMs() / 1000.0 + 1.5,
              median(totals) <= a.buildMs() / 1000.0 + 1.5 ? "met" : "NOT met");
          reach.forEach((state, times) -> System.out.printf("  STARTED -> %-10s median %.2f s%n", state,
              median(times)));
          return true;
        } finally {
          channel.shutdownNow();
        }
      }
    } finally {
      Shell.delete(dir);
    }
  }

  private static RequestInfo.State follow(GatewayGrpc.GatewayBlockingStub gateway, String id) {
    Iterator<RequestInfo> updates = gateway.withDeadlineAfter(5, TimeUnit.MINUTES)
        .watch(WatchRequest.newBuilder().setRequestId(id).build());
    RequestInfo.State state = RequestInfo.State.STATE_UNSPECIFIED;
    while (updates.hasNext()) {
      state = updates.next().getState();
      if (state == RequestInfo.State.LANDED || state == RequestInfo.State.ERROR
          || state == RequestInfo.State.CANCELLED) {
        break;
      }
    }
    return state;
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }
}
