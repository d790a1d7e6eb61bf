package dev.conveyor.submitqueue.gateway;

import dev.conveyor.api.submitqueue.BuildInfo;
import dev.conveyor.api.submitqueue.BuildLogRequest;
import dev.conveyor.api.submitqueue.BuildLogResponse;
import dev.conveyor.api.submitqueue.CancelRequest;
import dev.conveyor.api.submitqueue.CancelResponse;
import dev.conveyor.api.submitqueue.GatewayGrpc;
import dev.conveyor.api.submitqueue.HistoryRequest;
import dev.conveyor.api.submitqueue.HistoryResponse;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.api.submitqueue.LandResponse;
import dev.conveyor.api.submitqueue.ListRequest;
import dev.conveyor.api.submitqueue.ListResponse;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.StatusRequest;
import dev.conveyor.api.submitqueue.StatusResponse;
import dev.conveyor.api.submitqueue.WatchRequest;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.build.BuildLogs;
import dev.conveyor.submitqueue.cancel.Cancellation;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.RequestRefused;
import dev.conveyor.submitqueue.request.RequestRefused.Kind;
import dev.conveyor.submitqueue.request.Requests;
import dev.conveyor.submitqueue.speculate.PathRecord;
import dev.conveyor.submitqueue.speculate.Paths;
import dev.conveyor.submitqueue.start.Admission;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Supplier;

/** SubmitQueue's public gRPC API: land, cancel, status, list, history, a live watch and build logs. */
public final class GatewayService extends GatewayGrpc.GatewayImplBase {
  static final int DEFAULT_LIST_LIMIT = 50;
  static final int MAX_LIST_LIMIT = 500;
  static final Duration WATCH_POLL = Duration.ofMillis(100);
  static final int MAX_BUILD_ID_BYTES = 512;
  static final int DEFAULT_LOG_PAGE = 65_536;
  static final int MAX_LOG_PAGE = 1 << 20;

  private final Ledger ledger;
  private final Admission admission;
  private final Cancellation cancellation;
  private final ScheduledExecutorService watchers;

  public GatewayService(Ledger ledger, Admission admission, Cancellation cancellation,
      ScheduledExecutorService watchers) {
    this.ledger = ledger;
    this.admission = admission;
    this.cancellation = cancellation;
    this.watchers = watchers;
  }

  @Override
  public void land(LandRequest request, StreamObserver<LandResponse> response) {
    answer(response, () -> {
      List<String> uris = admission.validate(request.getQueue(), request.getChange().getUrisList(),
          request.getStrategy());
      RequestRecord r = ledger.transact(tx -> admission.land(tx, request.getQueue(), uris, request.getStrategy()));
      return LandResponse.newBuilder().setRequestId(r.requestId()).build();
    });
  }

  @Override
  public void cancel(CancelRequest request, StreamObserver<CancelResponse> response) {
    answer(response, () -> {
      String id = requireId(request.getRequestId());
      RequestRecord r = ledger.transact(tx -> cancellation.cancel(tx, id, "cancelled by request"));
      return CancelResponse.newBuilder().setRequest(r.toInfo()).build();
    });
  }

  @Override
  public void status(StatusRequest request, StreamObserver<StatusResponse> response) {
    answer(response, () -> ledger.transact(tx -> {
      RequestRecord r = found(Requests.find(tx, requireId(request.getRequestId())), request.getRequestId());
      StatusResponse.Builder out = StatusResponse.newBuilder().setRequest(r.toInfo());
      if (r.batchId() != null) {
        Batches.find(tx, r.batchId()).ifPresent(b -> out.setBatch(b.toInfo()));
        for (PathRecord p : Paths.forBatch(tx, r.batchId())) {
          if (p.jobId() != null) {
            out.addBuilds(BuildInfo.newBuilder().setBuildId(p.jobId()).setPathId(p.pathId())
                .setAssumptions(p.describe()).setState(p.state().name())
                .setReason(p.reason() == null ? "" : p.reason()));
          }
        }
      }
      return out.build();
    }));
  }

  @Override
  public void list(ListRequest request, StreamObserver<ListResponse> response) {
    answer(response, () -> {
      int limit = request.getLimit() <= 0 ? DEFAULT_LIST_LIMIT : Math.min(request.getLimit(), MAX_LIST_LIMIT);
      long after = parseToken(request.getPageToken());
      List<RequestRecord> page = ledger.transact(tx -> Requests.list(tx, request.getQueue(),
          request.getStatesList(), limit + 1, after));
      ListResponse.Builder out = ListResponse.newBuilder();
      page.stream().limit(limit).forEach(r -> out.addRequests(r.toInfo()));
      if (page.size() > limit) {
        out.setNextPageToken(String.valueOf(page.get(limit - 1).n()));
      }
      return out.build();
    });
  }

  @Override
  public void history(HistoryRequest request, StreamObserver<HistoryResponse> response) {
    answer(response, () -> ledger.transact(tx -> {
      String id = requireId(request.getRequestId());
      found(Requests.find(tx, id), id);
      return HistoryResponse.newBuilder().setRequestId(id).addAllEntries(Requests.history(tx, id)).build();
    }));
  }

  /** A page of a build's stored output; reaching it takes the gateway's role, like every other call here. */
  @Override
  public void buildLog(BuildLogRequest request, StreamObserver<BuildLogResponse> response) {
    answer(response, () -> {
      String id = request.getBuildId();
      if (id.isBlank()) {
        throw new RequestRefused(Kind.INVALID_ARGUMENT, "field 'build_id' must not be empty");
      }
      if (id.getBytes(java.nio.charset.StandardCharsets.UTF_8).length > MAX_BUILD_ID_BYTES
          || !id.codePoints().allMatch(c -> c > 0x20 && c < 0x7f)) {
        throw new RequestRefused(Kind.INVALID_ARGUMENT, "field 'build_id' must be at most " + MAX_BUILD_ID_BYTES
            + " bytes of printable ASCII without spaces (ids as 'conveyor status' shows them)");
      }
      if (request.getOffset() < 0) {
        throw new RequestRefused(Kind.INVALID_ARGUMENT, "field 'offset' must not be negative");
      }
      if (request.getLimit() < 0 || request.getLimit() > MAX_LOG_PAGE) {
        throw new RequestRefused(Kind.INVALID_ARGUMENT, "field 'limit' must be between 0 (the default, "
            + DEFAULT_LOG_PAGE + ") and " + MAX_LOG_PAGE);
      }
      int limit = request.getLimit() == 0 ? DEFAULT_LOG_PAGE : request.getLimit();
      BuildLogs.Page page = ledger.transact(tx -> BuildLogs.page(tx, id, request.getOffset(), limit))
          .orElseThrow(() -> new RequestRefused(Kind.BUILD_NOT_FOUND, "no build '" + id + "'"));
      return BuildLogResponse.newBuilder().setBuildId(id).setText(page.text()).setOffset(page.offset())
          .setNextOffset(page.nextOffset()).setTotal(page.total()).setFinished(page.finished()).build();
    });
  }

  /** Sends the request's status now and on every change, and completes once it is terminal. */
  @Override
  public void watch(WatchRequest request, StreamObserver<RequestInfo> response) {
    ServerCallStreamObserver<RequestInfo> call = (ServerCallStreamObserver<RequestInfo>) response;
    String id;
    try {
      id = requireId(request.getRequestId());
      found(ledger.transact(tx -> Requests.find(tx, id)), id);
    } catch (RuntimeException e) {
      response.onError(GatewayErrors.toStatus(e));
      return;
    }
    new Watch(id, call).poll();
  }

  private final class Watch {
    private final String id;
    private final ServerCallStreamObserver<RequestInfo> call;
    private long lastVersion = -1;

    Watch(String id, ServerCallStreamObserver<RequestInfo> call) {
      this.id = id;
      this.call = call;
    }

    void poll() {
      if (call.isCancelled()) {
        return;
      }
      try {
        RequestRecord r = ledger.transact(tx -> Requests.get(tx, id));
        if (r.version() != lastVersion) {
          lastVersion = r.version();
          call.onNext(r.toInfo());
        }
        if (r.terminal()) {
          call.onCompleted();
          return;
        }
        watchers.schedule(this::poll, WATCH_POLL.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RuntimeException e) {
        call.onError(GatewayErrors.toStatus(e));
      }
    }
  }

  private static String requireId(String id) {
    if (id == null || id.isBlank()) {
      throw new RequestRefused(Kind.INVALID_ARGUMENT, "field 'request_id' must not be empty");
    }
    return id;
  }

  private static RequestRecord found(java.util.Optional<RequestRecord> r, String id) {
    return r.orElseThrow(() -> new RequestRefused(Kind.REQUEST_NOT_FOUND, "no request '" + id + "'"));
  }

  private static long parseToken(String token) {
    if (token == null || token.isBlank()) {
      return 0;
    }
    try {
      return Long.parseLong(token);
    } catch (NumberFormatException e) {
      throw new RequestRefused(Kind.INVALID_ARGUMENT, "field 'page_token' is not a token this server issued");
    }
  }

  private static <T> void answer(StreamObserver<T> response, Supplier<T> work) {
    T value;
    try {
      value = work.get();
    } catch (RuntimeException e) {
      response.onError(GatewayErrors.toStatus(e));
      return;
    }
    response.onNext(value);
    response.onCompleted();
  }
}
