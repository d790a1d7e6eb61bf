package dev.conveyor.reconcile.control;

import dev.conveyor.api.reconcile.CancelJobRequest;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.RegisterTableRequest;
import dev.conveyor.api.reconcile.RegisterTableResponse;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.api.reconcile.StartCaptureResponse;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.reconcile.planning.CaptureTables;
import dev.conveyor.reconcile.schedule.CaptureSchedules;
import dev.conveyor.api.reconcile.ListCaptureSchedulesRequest;
import dev.conveyor.api.reconcile.ListCaptureSchedulesResponse;
import dev.conveyor.api.reconcile.SetCaptureScheduleRequest;
import dev.conveyor.api.reconcile.SetCaptureScheduleResponse;
import dev.conveyor.api.reconcile.CancelJobResponse;
import dev.conveyor.api.reconcile.GetJobRequest;
import dev.conveyor.api.reconcile.GetJobResponse;
import dev.conveyor.api.reconcile.GetJobTreeRequest;
import dev.conveyor.api.reconcile.GetJobTreeResponse;
import dev.conveyor.api.reconcile.JobState;
import dev.conveyor.api.reconcile.JobInfo;
import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.api.bounds.InvalidField;
import dev.conveyor.api.bounds.PageTokens;
import dev.conveyor.reconcile.planning.CaptureCompleteness;
import dev.conveyor.api.reconcile.ListJobsRequest;
import dev.conveyor.api.reconcile.ListJobsResponse;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.reconcile.executor.GrpcErrors;
import io.grpc.stub.StreamObserver;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.Callable;

/**
 * The public control plane: register tables, start captures, look at and cancel jobs. Every field
 * is checked against its bound ({@link Bounds}, {@link ControlBounds}) before anything is read; a
 * finalizer's job info carries its snapshot's completeness.
 */
public final class ReconcileControlService extends ReconcileControlGrpc.ReconcileControlImplBase {
  /** ListJobs: limit 0 means {@value #DEFAULT_PAGE}; at most {@value #MAX_PAGE}. */
  static final int MAX_PAGE = 1000;
  static final int DEFAULT_PAGE = 100;
  private static final String LIST_JOBS_SCOPE = "reconcile.ListJobs:";

  private final Ledger ledger;
  private final CaptureTables tables;
  private final CapturePlanner planner;
  private final CaptureSchedules schedules;

  public ReconcileControlService(Ledger ledger, CaptureTables tables, CapturePlanner planner) {
    this.ledger = ledger;
    this.tables = tables;
    this.planner = planner;
    this.schedules = new CaptureSchedules(ledger, tables, planner);
  }

  public ReconcileControlService(Ledger ledger) {
    this(ledger, new CaptureTables(ledger), new CapturePlanner(ledger, new CaptureTables(ledger),
        CapturePlanner.Limits.DEFAULT));
  }

  @Override
  public void registerTable(RegisterTableRequest req, StreamObserver<RegisterTableResponse> out) {
    call(out, () -> {
      Bounds.id("table_id", req.getTableId());
      ControlBounds.connector(req.getConnector());
      UpFront.connector(req.getConnector());
      return RegisterTableResponse.newBuilder().setTableId(req.getTableId())
          .setCreated(tables.register(req.getTableId(), req.getConnector())).build();
    });
  }

  @Override
  public void startCapture(StartCaptureRequest req, StreamObserver<StartCaptureResponse> out) {
    call(out, () -> {
      ControlBounds.startCapture(req);
      tables.connector(req.getTableId()).ifPresent(c -> UpFront.startCapture(req, c));
      CapturePolicy policy = req.hasPolicy() ? req.getPolicy() : CapturePolicy.newBuilder().setFileStats(true)
          .setColumnStats(true).setTableStats(true).build();
      return StartCaptureResponse.newBuilder().setJobId(planner.startCapture(req.getTableId(), req.getSnapshotId(),
          req.getSnapshotIdsList(), req.getLatestSnapshots(), policy)).build();
    });
  }

  @Override
  public void setCaptureSchedule(SetCaptureScheduleRequest req, StreamObserver<SetCaptureScheduleResponse> out) {
    call(out, () -> {
      String table = Bounds.id("table_id", req.getTableId());
      if (req.getRemove()) {
        return SetCaptureScheduleResponse.newBuilder().setExisted(schedules.remove(table)).build();
      }
      ControlBounds.policy(req.getPolicy());
      boolean existed = schedules.find(table).isPresent();
      CapturePolicy policy = req.hasPolicy() ? req.getPolicy() : CapturePolicy.newBuilder().setFileStats(true)
          .setColumnStats(true).setTableStats(true).setColumns(dev.conveyor.api.reconcile.ColumnSelection.newBuilder()
              .setAll(true)).build();
      return SetCaptureScheduleResponse.newBuilder().setExisted(existed)
          .setSchedule(schedules.set(table, java.time.Duration.ofMillis(req.getEveryMs()), policy)).build();
    });
  }

  @Override
  public void listCaptureSchedules(ListCaptureSchedulesRequest req, StreamObserver<ListCaptureSchedulesResponse> out) {
    call(out, () -> ListCaptureSchedulesResponse.newBuilder().addAllSchedules(schedules.list()).build());
  }

  private static <T> void call(StreamObserver<T> out, Callable<T> body) {
    T response;
    try {
      response = body.call();
    } catch (Throwable e) {
      out.onError(GrpcErrors.toStatus(e));
      return;
    }
    out.onNext(response);
    out.onCompleted();
  }

  @Override
  public void getJob(GetJobRequest req, StreamObserver<GetJobResponse> out) {
    call(out, () -> {
      Job job = ledger.jobs().get(Bounds.id("job_id", req.getJobId()));
      JobInfo.Builder info = JobViews.info(job).toBuilder();
      if (job.kind() == dev.conveyor.ledger.jobs.JobKind.FINALIZE_SNAPSHOT) {
        var c = ledger.read(tx -> CaptureCompleteness.ofFinalizers(tx, List.of(job.id()),
            CaptureCompleteness.MAX_LISTED));
        if (c.containsKey(job.id())) {
          info.setCompleteness(c.get(job.id()));
        }
      }
      return GetJobResponse.newBuilder().setJob(info).build();
    });
  }

  @Override
  public void getJobTree(GetJobTreeRequest req, StreamObserver<GetJobTreeResponse> out) {
    call(out, () -> {
      var tree = ledger.jobs().tree(Bounds.id("job_id", req.getJobId()));
      var completeness = ledger.read(tx -> CaptureCompleteness.ofFinalizers(tx, JobViews.finalizers(tree),
          CaptureCompleteness.MAX_LISTED));
      return GetJobTreeResponse.newBuilder().setRoot(JobViews.tree(tree, completeness)).build();
    });
  }

  @Override
  public void listJobs(ListJobsRequest req, StreamObserver<ListJobsResponse> out) {
    call(out, () -> {
      Bounds.range("limit", req.getLimit(), 0, MAX_PAGE);
      Bounds.list("states", req.getStatesList(), Bounds.MAX_LIST_ITEMS);
      int limit = req.getLimit() == 0 ? DEFAULT_PAGE : req.getLimit();
      Set<dev.conveyor.ledger.jobs.JobState> states = new HashSet<>();
      for (JobState s : req.getStatesList()) {
        if (s == JobState.RJS_UNSPECIFIED || s == JobState.UNRECOGNIZED) {
          throw new InvalidField("states", "field 'states' contains " + s + ", which is not a job state");
        }
        states.add(dev.conveyor.ledger.jobs.JobState.valueOf(s.name().substring(4)));
      }
      // the token is bound to the listing it came from: other filters would skip or repeat jobs
      String scope = LIST_JOBS_SCOPE + req.getRootsOnly() + ":" + new java.util.TreeSet<>(states);
      String after = PageTokens.decode("page_token", scope, req.getPageToken());
      List<Job> page = ledger.jobs().list(states, Set.of(), req.getRootsOnly(), limit + 1, after);
      ListJobsResponse.Builder b = ListJobsResponse.newBuilder();
      page.stream().limit(limit).forEach(j -> b.addJobs(JobViews.info(j)));
      if (page.size() > limit) {
        b.setNextPageToken(PageTokens.encode(scope, page.get(limit - 1).id()));
      }
      return b.build();
    });
  }

  @Override
  public void cancelJob(CancelJobRequest req, StreamObserver<CancelJobResponse> out) {
    call(out, () -> {
      Bounds.id("job_id", req.getJobId());
      Bounds.text("reason", req.getReason());
      ledger.jobs().cancel(req.getJobId(), req.getReason().isEmpty() ? "cancelled through the control plane"
          : req.getReason());
      return CancelJobResponse.newBuilder().setJob(JobViews.info(ledger.jobs().get(req.getJobId()))).build();
    });
  }

  @Override
  public void getTableStats(dev.conveyor.api.reconcile.GetTableStatsRequest req,
      StreamObserver<dev.conveyor.api.reconcile.TableStats> out) {
    call(out, () -> {
      String table = Bounds.id("table_id", req.getTableId());
      Set<String> columns = columns(req.getColumnsList());
      return ledger.read(tx -> {
        String snapshot = snapshot(tx, table, req.getSnapshotId());
        return StatsReader.table(tx, table, snapshot, columns).orElseThrow(() -> notFound(table, snapshot));
      });
    });
  }

  @Override
  public void listFileStats(dev.conveyor.api.reconcile.ListFileStatsRequest req,
      StreamObserver<dev.conveyor.api.reconcile.ListFileStatsResponse> out) {
    call(out, () -> {
      String table = Bounds.id("table_id", req.getTableId());
      Set<String> columns = columns(req.getColumnsList());
      Bounds.range("page_size", req.getPageSize(), 0, StatsReader.MAX_FILES);
      int size = req.getPageSize() == 0 ? StatsReader.DEFAULT_FILES : req.getPageSize();
      return ledger.read(tx -> {
        String snapshot = snapshot(tx, table, req.getSnapshotId());
        // a token is bound to its listing: another table, snapshot or column set would skip or repeat files
        String scope = "reconcile.ListFileStats:" + table + ":" + snapshot + ":" + new java.util.TreeSet<>(columns);
        String after = PageTokens.decode("page_token", scope, req.getPageToken());
        if (after == null && StatsReader.table(tx, table, snapshot, columns).isEmpty()) {
          throw notFound(table, snapshot);
        }
        var files = StatsReader.files(tx, table, snapshot, columns, after, size + 1);
        var b = dev.conveyor.api.reconcile.ListFileStatsResponse.newBuilder().setSnapshotId(snapshot)
            .addAllFiles(files.subList(0, Math.min(size, files.size())));
        if (files.size() > size) {
          b.setNextPageToken(PageTokens.encode(scope, files.get(size - 1).getPath()));
        }
        return b.build();
      });
    });
  }

  private static Set<String> columns(List<String> names) {
    Bounds.ids("columns", names, Bounds.MAX_LIST_ITEMS);
    return new java.util.LinkedHashSet<>(names);
  }

  private static String snapshot(dev.conveyor.ledger.Tx tx, String table, String asked) throws java.sql.SQLException {
    if (!asked.isEmpty()) {
      return Bounds.id("snapshot_id", asked);
    }
    return StatsReader.newestSnapshot(tx, table).orElseThrow(() -> dev.conveyor.api.ErrorStatus.of(
        com.google.rpc.Code.NOT_FOUND, "NOT_FOUND", "table '" + table + "' has no finalized capture"));
  }

  private static RuntimeException notFound(String table, String snapshot) {
    return dev.conveyor.api.ErrorStatus.of(com.google.rpc.Code.NOT_FOUND, "NOT_FOUND", "snapshot '" + snapshot
        + "' of table '" + table + "' has no finalized statistics");
  }
}
