package dev.conveyor.bench.soak;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.GetJobRequest;
import dev.conveyor.api.reconcile.JobState;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.api.reconcile.RegisterTableRequest;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.StatusRequest;
import dev.conveyor.bench.ServeProcess;
import dev.conveyor.bench.GitOrigin;
import dev.conveyor.reconcile.auth.BearerCredentials;
import dev.conveyor.reconcile.auth.LocalToken;
import io.grpc.ManagedChannel;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * The server half of the mix, through serve's public gRPC API with its local token: land requests of
 * one new file each (never conflicting, built by {@code true}) on a real git origin, and captures of
 * small Parquet tables started again and again. Every request and capture is followed to its end.
 */
final class ServerLoad implements AutoCloseable {
  private static final Set<RequestInfo.State> TERMINAL =
      Set.of(RequestInfo.State.LANDED, RequestInfo.State.ERROR, RequestInfo.State.CANCELLED);
  private static final Set<JobState> JOB_TERMINAL = Set.of(JobState.RJS_SUCCEEDED, JobState.RJS_FAILED,
      JobState.RJS_CANCELLED);

  private final ManagedChannel channel;
  private final GatewayGrpc.GatewayBlockingStub gateway;
  private final ReconcileControlGrpc.ReconcileControlBlockingStub control;
  private final GitOrigin git;
  private final List<String> tables;
  private final long landEveryMillis;
  private final long captureEveryMillis;
  private final AtomicBoolean submitting = new AtomicBoolean(true);
  private final AtomicBoolean running = new AtomicBoolean(true);
  private final Map<String, String> pendingLands = new LinkedHashMap<>();
  private final Map<String, String> pendingCaptures = new LinkedHashMap<>();
  private final List<String> failures = new ArrayList<>();
  private int landsSubmitted;
  private int landed;
  private int capturesStarted;
  private int capturesDone;
  private Thread thread;

  private ServerLoad(ServeProcess serve, GitOrigin git, List<String> tables, long landEveryMillis,
      long captureEveryMillis) throws IOException {
    this.channel = NettyChannelBuilder.forAddress("127.0.0.1", serve.grpcPort()).usePlaintext().build();
    String token = LocalToken.read(serve.dataDir().resolve(LocalToken.FILE_NAME));
    BearerCredentials credentials = new BearerCredentials(() -> token);
    this.gateway = GatewayGrpc.newBlockingStub(channel).withCallCredentials(credentials);
    this.control = ReconcileControlGrpc.newBlockingStub(channel).withCallCredentials(credentials);
    this.git = git;
    this.tables = tables;
    this.landEveryMillis = landEveryMillis;
    this.captureEveryMillis = captureEveryMillis;
  }

  /** Registers {@code tableDirs} as Parquet-directory tables, then starts submitting. */
  static ServerLoad start(ServeProcess serve, GitOrigin git, List<Path> tableDirs, long landEveryMillis,
      long captureEveryMillis) throws IOException {
    List<String> ids = new ArrayList<>();
    for (Path dir : tableDirs) {
      ids.add("soak." + dir.getFileName());
    }
    ServerLoad load = new ServerLoad(serve, git, ids, landEveryMillis, captureEveryMillis);
    for (int i = 0; i < tableDirs.size(); i++) {
      load.control.withDeadlineAfter(30, TimeUnit.SECONDS).registerTable(RegisterTableRequest.newBuilder()
          .setTableId(ids.get(i)).setConnector(ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
              .setLocation(tableDirs.get(i).toString())).build());
    }
    load.thread = new Thread(load::loop, "soak-server-load");
    load.thread.setDaemon(true);
    load.thread.start();
    return load;
  }

  private void loop() {
    long nextLand = System.currentTimeMillis();
    long nextCapture = System.currentTimeMillis();
    while (running.get()) {
      try {
        long now = System.currentTimeMillis();
        if (submitting.get() && now >= nextLand) {
          land();
          nextLand = now + landEveryMillis;
        }
        if (submitting.get() && now >= nextCapture) {
          capture();
          nextCapture = now + captureEveryMillis;
        }
        follow();
        Thread.sleep(500);
      } catch (InterruptedException e) {
        return;
      } catch (RuntimeException | IOException e) {
        note("driver error: " + e);
      }
    }
  }

  private void land() throws IOException, InterruptedException {
    int n;
    synchronized (this) {
      n = landsSubmitted;
    }
    String uri = git.pushChange(n);
    String id = gateway.withDeadlineAfter(30, TimeUnit.SECONDS).land(LandRequest.newBuilder().setQueue("soak")
        .setChange(Change.newBuilder().addUris(uri)).build())
        .getRequestId();
    synchronized (this) {
      landsSubmitted++;
      pendingLands.put(id, uri);
    }
  }

  private void capture() {
    int n;
    synchronized (this) {
      n = capturesStarted;
    }
    String table = tables.get(n % tables.size());
    CapturePolicy policy = CapturePolicy.newBuilder().setFileStats(true).setColumnStats(true).setTableStats(true)
        .setPageIndex(true).setColumns(ColumnSelection.newBuilder().setAll(true)).build();
    String job = control.withDeadlineAfter(30, TimeUnit.SECONDS).startCapture(StartCaptureRequest.newBuilder()
        .setTableId(table).setPolicy(policy).build()).getJobId();
    synchronized (this) {
      capturesStarted++;
      pendingCaptures.put(job, table);
    }
  }

  /** Polls every open request and capture; a finished one leaves the pending set. */
  private void follow() {
    for (String id : snapshot(pendingLands)) {
      RequestInfo info = gateway.withDeadlineAfter(30, TimeUnit.SECONDS)
          .status(StatusRequest.newBuilder().setRequestId(id).build()).getRequest();
      if (TERMINAL.contains(info.getState())) {
        synchronized (this) {
          pendingLands.remove(id);
          if (info.getState() == RequestInfo.State.LANDED) {
            landed++;
          } else {
            failures.add("land request " + id + " ended " + info.getState() + ": " + info.getReason());
          }
        }
      }
    }
    for (String job : snapshot(pendingCaptures)) {
      JobState state;
      try {
        state = control.withDeadlineAfter(30, TimeUnit.SECONDS).getJob(GetJobRequest.newBuilder().setJobId(job)
            .build()).getJob().getState();
      } catch (StatusRuntimeException e) {
        note("capture " + job + ": " + e.getStatus());
        continue;
      }
      if (JOB_TERMINAL.contains(state)) {
        synchronized (this) {
          pendingCaptures.remove(job);
          if (state == JobState.RJS_SUCCEEDED) {
            capturesDone++;
          } else {
            failures.add("capture " + job + " ended " + state);
          }
        }
      }
    }
  }

  private synchronized List<String> snapshot(Map<String, String> pending) {
    return new ArrayList<>(pending.keySet());
  }

  private synchronized void note(String failure) {
    if (failures.size() < 50) {
      failures.add(failure);
    }
  }

  void stopSubmitting() {
    submitting.set(false);
  }

  synchronized boolean drained() {
    return pendingLands.isEmpty() && pendingCaptures.isEmpty();
  }

  synchronized String counters() {
    return String.format("landed %d/%d  captures %d/%d", landed, landsSubmitted, capturesDone, capturesStarted);
  }

  /** Lost or failed work: requests or captures that did not succeed, and changes missing from main. */
  List<String> problems() throws IOException, InterruptedException {
    List<String> problems = new ArrayList<>();
    synchronized (this) {
      failures.stream().limit(10).forEach(problems::add);
      if (!pendingLands.isEmpty()) {
        problems.add("land requests never finished: " + pendingLands.keySet());
      }
      if (!pendingCaptures.isEmpty()) {
        problems.add("captures never finished: " + pendingCaptures.keySet());
      }
    }
    long onMain = git.changesOnMain();
    synchronized (this) {
      if (onMain != landed) {
        problems.add("main holds " + onMain + " changes, but " + landed + " requests landed");
      }
    }
    return problems;
  }

  @Override
  public void close() throws InterruptedException {
    running.set(false);
    if (thread != null) {
      thread.interrupt();
      thread.join(10_000);
    }
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
  }
}
