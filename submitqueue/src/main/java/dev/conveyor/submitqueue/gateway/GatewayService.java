package dev.conveyor.submitqueue.gateway;

import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.api.bounds.InvalidField;
import dev.conveyor.api.bounds.PageTokens;
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
  /** List: limit 0 means {@value #DEFAULT_LIST_LIMIT}; negative or above this is refused. */
  static final int MAX_LIST_LIMIT = 500;
  static final Duration WATCH_POLL = Duration.ofMillis(100);
  static final Duration WATCH_OUTAGE_RETRY = Duration.ofSeconds(1);
  /** Open Watch streams per node: each polls the ledger, so one caller must not be able to open thousands. */
  static final int MAX_WATCHES = 1_000;
  private final int maxWatches;
  private final java.util.concurrent.atomic.AtomicInteger openWatches = new java.util.concurrent.atomic.AtomicInteger();
  static final int DEFAULT_LOG_PAGE = 65_536;
  static final int MAX_LOG_PAGE = 1 << 20;

  private final Ledger ledger;
  private final Admission admission;
  private final Cancellation cancellation;
  private final ScheduledExecutorService watchers;

  public GatewayService(Ledger ledger, Admission admission, Cancellation cancellation,
      ScheduledExecutorService watchers) {
    this(ledger, admission, cancellation, watchers, MAX_WATCHES);
  }

  /** {@code maxWatches}: Watch streams this node serves at once; more are refused with RESOURCE_EXHAUSTED. */
  public GatewayService(Ledger ledger, Admission admission, Cancellation cancellation,
      ScheduledExecutorService watchers, int maxWatches) {
    this.maxWatches = maxWatches;
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
      LandResponse.Builder out = LandResponse.newBuilder();
      ledger.transact(tx -> {
        out.setRequestId(admission.land(tx, request.getQueue(), uris, request.getStrategy(), request.getPriority())
            .requestId());
        var state = dev.conveyor.submitqueue.control.QueueStates.get(tx, request.getQueue());
        out.setNotice(state.paused() ? "queued, but queue '" + request.getQueue() + "' is " + state.describe()
            + "; nothing is built or merged until it is resumed" : "");
        return null;
      });
      return out.build();
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
    answer(response, () -> ledger.read(tx -> {
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
      Bounds.optional("queue", request.getQueue(), Bounds.MAX_QUEUE_BYTES);
      Bounds.list("states", request.getStatesList(), Bounds.MAX_LIST_ITEMS);
      int requested = Bounds.range("limit", request.getLimit(), 0, MAX_LIST_LIMIT);
      int limit = requested == 0 ? DEFAULT_LIST_LIMIT : requested;
      // a token continues the listing it came from: another queue or filter would skip or repeat requests
      String scope = "submitqueue.List:" + request.getQueue() + ":" + request.getStatesList();
      long after = parseToken(PageTokens.decode("page_token", scope, request.getPageToken()));
      List<RequestRecord> page = ledger.read(tx -> Requests.list(tx, request.getQueue(),
          request.getStatesList(), limit + 1, after));
      ListResponse.Builder out = ListResponse.newBuilder();
      page.stream().limit(limit).forEach(r -> out.addRequests(r.toInfo()));
      if (page.size() > limit) {
        out.setNextPageToken(PageTokens.encode(scope, String.valueOf(page.get(limit - 1).n())));
      }
      return out.build();
    });
  }

  @Override
  public void history(HistoryRequest request, StreamObserver<HistoryResponse> response) {
    answer(response, () -> ledger.read(tx -> {
      String id = requireId(request.getRequestId());
      found(Requests.find(tx, id), id);
      return HistoryResponse.newBuilder().setRequestId(id).addAllEntries(
          dev.conveyor.submitqueue.request.RequestEffects.timeline(Requests.history(tx, id),
              dev.conveyor.submitqueue.request.RequestEffects.of(tx, id))).build();
    }));
  }

  /** A page of a build's stored output; reaching it takes the gateway's role, like every other call here. */
  @Override
  public void buildLog(BuildLogRequest request, StreamObserver<BuildLogResponse> response) {
    answer(response, () -> {
      String id = Bounds.id("build_id", request.getBuildId());
      Bounds.range("offset", request.getOffset(), 0, Long.MAX_VALUE);
      Bounds.range("limit", request.getLimit(), 0, MAX_LOG_PAGE);
      int limit = request.getLimit() == 0 ? DEFAULT_LOG_PAGE : request.getLimit();
      BuildLogs.Page page = ledger.read(tx -> BuildLogs.page(tx, id, request.getOffset(), limit))
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
      found(ledger.read(tx -> Requests.find(tx, id)), id);
    } catch (RuntimeException e) {
      response.onError(GatewayErrors.toStatus(e));
      return;
    }
    if (openWatches.incrementAndGet() > maxWatches) {
      openWatches.decrementAndGet();
      response.onError(dev.conveyor.api.ErrorStatus.of(com.google.rpc.Code.RESOURCE_EXHAUSTED, "OVERLOADED",
          "this node already serves " + maxWatches + " watches; poll Status or try again later"));
      return;
    }
    new Watch(id, call).poll();
  }

  private final class Watch {
    private final String id;
    private final ServerCallStreamObserver<RequestInfo> call;
    private long lastVersion = -1;
    private int sentStates;
    private RequestInfo.State lastState;
    private final java.util.concurrent.atomic.AtomicBoolean open = new java.util.concurrent.atomic.AtomicBoolean(true);

    Watch(String id, ServerCallStreamObserver<RequestInfo> call) {
      this.id = id;
      this.call = call;
    }

    /** Frees this watch's place; once, whichever way it ended. */
    private void ended() {
      if (open.compareAndSet(true, false)) {
        openWatches.decrementAndGet();
      }
    }

    void poll() {
      if (call.isCancelled()) {
        ended();
        return;
      }
      try {
        record Seen(RequestRecord request, java.util.List<dev.conveyor.api.submitqueue.HistoryEntry> log) {}
        Seen seen = ledger.read(tx -> new Seen(Requests.get(tx, id), Requests.history(tx, id)));
        RequestRecord r = seen.request();
        // every state the request passed through is sent, from its log: states that came and went between two
        // polls (STARTED -> VALIDATED -> BATCHED in one interval) are never skipped
        for (int i = sentStates; i < seen.log().size(); i++) {
          var e = seen.log().get(i);
          RequestInfo info = r.toInfo();
          if (i < seen.log().size() - 1 || e.getState() != info.getState()) {
            info = info.toBuilder().setState(e.getState()).setReason(e.getReason()).setUpdatedAtMs(e.getAtMs())
                .build();
          }
          call.onNext(info);
          lastVersion = r.version();
          lastState = info.getState();
        }
        sentStates = seen.log().size();
        // a state the log does not hold yet is sent from the row, but never the state just sent again: the log
        // and the row are read by two statements, and a transition between them is already on its way
        if (r.version() != lastVersion && r.toInfo().getState() != lastState) {
          lastVersion = r.version();
          lastState = r.toInfo().getState();
          call.onNext(r.toInfo());
        }
        if (r.terminal()) {
          ended();
          call.onCompleted();
          return;
        }
        watchers.schedule(this::poll, WATCH_POLL.toMillis(), TimeUnit.MILLISECONDS);
      } catch (RuntimeException e) {
        if (dev.conveyor.ledger.FailureKind.of(e).isTransient()) {
          // the ledger is away for longer than its own retries: the watcher waits, it is not told "error"
          watchers.schedule(this::poll, WATCH_OUTAGE_RETRY.toMillis(), TimeUnit.MILLISECONDS);
          return;
        }
        ended();
        call.onError(GatewayErrors.toStatus(e));
      } catch (Error e) {
        // a scheduled task that throws is dropped silently; end this watch with a status instead
        ended();
        org.slf4j.LoggerFactory.getLogger(GatewayService.class).error("watch of {} failed", id, e);
        call.onError(io.grpc.Status.INTERNAL.withDescription("internal error: " + e.getClass().getSimpleName())
            .asRuntimeException());
      }
    }
  }

  private static String requireId(String id) {
    return Bounds.id("request_id", id);
  }

  private static RequestRecord found(java.util.Optional<RequestRecord> r, String id) {
    return r.orElseThrow(() -> new RequestRefused(Kind.REQUEST_NOT_FOUND, "no request '" + id + "'"));
  }

  /** The request number a verified token continues after (0: the first page). */
  private static long parseToken(String cursor) {
    if (cursor == null) {
      return 0;
    }
    try {
      return Long.parseLong(cursor);
    } catch (NumberFormatException e) {
      throw new InvalidField("page_token", "field 'page_token' is not a token this server issued");
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
