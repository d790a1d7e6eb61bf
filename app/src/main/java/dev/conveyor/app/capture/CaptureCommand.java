package dev.conveyor.app.capture;

import dev.conveyor.api.reconcile.CancelJobRequest;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ColumnList;
import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.GetJobTreeRequest;
import dev.conveyor.api.reconcile.JobState;
import dev.conveyor.api.reconcile.ListJobsRequest;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.api.reconcile.ListCaptureSchedulesRequest;
import dev.conveyor.api.reconcile.RegisterTableRequest;
import dev.conveyor.api.reconcile.SetCaptureScheduleRequest;
import dev.conveyor.api.reconcile.StartCaptureRequest;
import dev.conveyor.app.cli.LedgerOption;
import dev.conveyor.app.cli.ServerOption;
import dev.conveyor.app.cli.Table;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.reconcile.planning.CaptureCompleteness;
import io.grpc.ManagedChannel;
import java.nio.file.Path;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import java.util.function.Function;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;

@Command(name = "capture", mixinStandardHelpOptions = true,
    description = "Capture Parquet table statistics through a running 'conveyor serve'.",
    subcommands = {CaptureCommand.AddTable.class, CaptureCommand.Start.class, CaptureCommand.Status.class,
        CaptureCommand.Jobs.class, CaptureCommand.Cancel.class, CaptureCommand.Stats.class,
        CaptureCommand.Schedule.class, CaptureCommand.Schedules.class})
public final class CaptureCommand implements Runnable {

  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  static <T> T withControl(ServerOption server, Function<ReconcileControlGrpc.ReconcileControlBlockingStub, T> call) {
    ManagedChannel channel = server.channel();
    try {
      var stub = ReconcileControlGrpc.newBlockingStub(channel).withDeadlineAfter(30, TimeUnit.SECONDS);
      var creds = server.credentials();
      return call.apply(creds == null ? stub : stub.withCallCredentials(creds));
    } finally {
      channel.shutdownNow();
    }
  }

  @Command(name = "add-table", mixinStandardHelpOptions = true,
      description = "Register a table: a directory of Parquet files, or (--iceberg) an Iceberg filesystem table.")
  static final class AddTable implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(index = "0", paramLabel = "TABLE", description = "Table id.")
    String table;

    @Parameters(index = "1", paramLabel = "LOCATION", description = "Directory holding the table's .parquet files"
        + " (a local path, or s3://bucket/prefix), the Iceberg table's location (--iceberg), or with --rest-catalog"
        + " the table's identifier (namespace.table).")
    String location;

    @Option(names = "--iceberg", description = "LOCATION is an Iceberg table (Hadoop filesystem catalog layout).")
    boolean iceberg;

    @Option(names = "--rest-catalog", paramLabel = "URI",
        description = "LOCATION is a table (namespace.table) in this Iceberg REST catalog.")
    String restCatalog;

    @Option(names = "--warehouse", description = "The REST catalog's warehouse, when it serves several.")
    String warehouse;

    @Option(names = "--s3-endpoint", paramLabel = "URL", description = "An S3-compatible store's endpoint"
        + " (default: AWS).")
    String s3Endpoint;

    @Option(names = "--s3-region", paramLabel = "REGION", description = "The store's region (default: us-east-1).")
    String s3Region;

    @Option(names = "--s3-path-style", description = "Address buckets by path (most S3-compatible servers).")
    boolean s3PathStyle;

    @Option(names = "--s3-request-checksums", paramLabel = "when-supported|when-required",
        description = "when-required for S3-compatible servers that refuse the SDK's default trailing checksums.")
    String s3Checksums;

    @Option(names = "--credentials-file", paramLabel = "FILE", description = "A key=value file on the server's"
        + " machine with the secrets (s3.access-key-id, s3.secret-access-key, s3.session-token, token,"
        + " credential); read by the server when it needs them, never stored. Without it: the environment.")
    Path credentialsFile;

    @Override
    public Integer call() {
      boolean objectStore = location.startsWith("s3://") || location.startsWith("s3a://");
      boolean lake = objectStore || restCatalog != null;
      if (!lake && (s3Endpoint != null || s3Region != null || s3PathStyle || s3Checksums != null
          || credentialsFile != null || warehouse != null)) {
        throw new dev.conveyor.app.cli.ErrorReporter.UserError("--s3-*, --credentials-file and --warehouse describe object storage or a REST catalog;"
            + " " + location + " is a local path", "give an s3:// LOCATION or --rest-catalog URI");
      }
      if (warehouse != null && restCatalog == null) {
        throw new dev.conveyor.app.cli.ErrorReporter.UserError("--warehouse needs --rest-catalog", "add --rest-catalog URI");
      }
      ConnectorSpec.Builder connector = ConnectorSpec.newBuilder().setKind(iceberg || restCatalog != null
          ? ConnectorSpec.Kind.ICEBERG : ConnectorSpec.Kind.PARQUET_DIRECTORY);
      String where = lake ? location : Path.of(location).toAbsolutePath().normalize().toString();
      connector.setLocation(where);
      if (restCatalog != null) {
        connector.putProperties("catalog", "rest").putProperties("uri", restCatalog);
      }
      putIfSet(connector, "warehouse", warehouse);
      putIfSet(connector, "s3.endpoint", s3Endpoint);
      putIfSet(connector, "client.region", s3Region);
      putIfSet(connector, "s3.request-checksums", s3Checksums);
      if (s3PathStyle) {
        connector.putProperties("s3.path-style-access", "true");
      }
      if (credentialsFile != null) {
        connector.putProperties("credentials-file", credentialsFile.toAbsolutePath().normalize().toString());
      }
      var r = withControl(server, s -> s.registerTable(RegisterTableRequest.newBuilder().setTableId(table)
          .setConnector(connector).build()));
      System.out.println((r.getCreated() ? "registered " : "updated ") + table + " -> " + where
          + (restCatalog != null ? " in REST catalog " + restCatalog : ""));
      return 0;
    }

    private static void putIfSet(ConnectorSpec.Builder c, String key, String value) {
      if (value != null && !value.isBlank()) {
        c.putProperties(key, value);
      }
    }
  }

  /** What a capture computes: the options {@code start} and {@code schedule} share. */
  static final class PolicyOptions {
    @Option(names = "--columns", split = ",", description = "Only these columns.")
    List<String> columns = List.of();

    @Option(names = "--first-columns", description = "Only the first N columns.")
    Integer firstN;

    @Option(names = "--no-column-stats", description = "File statistics only.")
    boolean noColumnStats;

    @Option(names = "--page-index", description = "Also build a page-index sidecar per file (kept in the server's"
        + " data directory, under artifacts/).")
    boolean pageIndex;

    CapturePolicy policy() {
      if (!columns.isEmpty() && firstN != null) {
        throw new dev.conveyor.app.cli.ErrorReporter.UserError("--columns and --first-columns both choose the"
            + " columns", "give one of them");
      }
      ColumnSelection.Builder sel = ColumnSelection.newBuilder();
      if (!columns.isEmpty()) {
        sel.setExplicit(ColumnList.newBuilder().addAllNames(columns));
      } else if (firstN != null) {
        sel.setFirstN(firstN);
      } else {
        sel.setAll(true);
      }
      return CapturePolicy.newBuilder().setFileStats(true).setColumnStats(!noColumnStats).setTableStats(true)
          .setPageIndex(pageIndex).setColumns(sel).build();
    }
  }

  @Command(name = "schedule", mixinStandardHelpOptions = true, description = {
      "Capture a table without a person: every --every, whatever is new. An Iceberg table's current snapshot and"
          + " each one committed after it are captured once; a directory is captured when its listing changed.",
      "The schedule lives in the ledger: it survives restarts, and one node starts each run."})
  static final class Schedule implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "TABLE", description = "Table id.")
    String table;

    @Option(names = "--every", paramLabel = "DURATION", description = "How often: 10s to 366d, e.g. 1m, 1h, 1d"
        + " (a minute polls an Iceberg table for new snapshots; default ${DEFAULT-VALUE}).", defaultValue = "1h")
    String every;

    @Option(names = "--off", description = "Remove the table's schedule (a capture it started runs on).")
    boolean off;

    @Mixin PolicyOptions what;

    @Override
    public Integer call() {
      if (off) {
        var r = withControl(server, s -> s.setCaptureSchedule(SetCaptureScheduleRequest.newBuilder().setTableId(table)
            .setRemove(true).build()));
        System.out.println(r.getExisted() ? "schedule of " + table + " removed" : table + " had no schedule");
        return 0;
      }
      java.time.Duration period;
      try {
        period = dev.conveyor.app.cli.Durations.parse(every);
      } catch (IllegalArgumentException e) {
        throw new dev.conveyor.app.cli.ErrorReporter.UserError("--every '" + every + "' is not a duration",
            "write it as 90s, 30m, 1h or 1d");
      }
      CapturePolicy policy = what.policy();
      var r = withControl(server, s -> s.setCaptureSchedule(SetCaptureScheduleRequest.newBuilder().setTableId(table)
          .setEveryMs(period.toMillis()).setPolicy(policy).build()));
      System.out.println((r.getExisted() ? "schedule of " : "scheduled ") + table + ": every " + every
          + (r.getExisted() ? " (replaced)" : "") + "; first run now");
      System.out.println("see it with: conveyor capture schedules");
      return 0;
    }
  }

  @Command(name = "schedules", mixinStandardHelpOptions = true, description = "List capture schedules.")
  static final class Schedules implements Callable<Integer> {
    @Mixin ServerOption server;

    /** --json: conveyor.reconcile.ListCaptureSchedulesResponse ({"schedules": [CaptureSchedule…]}). */
    @Mixin dev.conveyor.app.cli.JsonOption json;

    @Override
    public Integer call() {
      var r = withControl(server, s -> s.listCaptureSchedules(ListCaptureSchedulesRequest.getDefaultInstance()));
      if (json.print(r)) {
        return 0;
      }
      dev.conveyor.app.cli.Table t = new dev.conveyor.app.cli.Table("TABLE", "EVERY", "NEXT RUN", "LAST CAPTURE");
      for (var s : r.getSchedulesList()) {
        t.row(s.getTableId(), java.time.Duration.ofMillis(s.getEveryMs()).toString().substring(2).toLowerCase(),
            java.time.Instant.ofEpochMilli(s.getNextDueAtMs()), s.getLastJobId().isEmpty() ? "-" : s.getLastJobId());
      }
      t.printOr(System.out, "no capture schedules (add one with: conveyor capture schedule TABLE --every 1h)");
      return 0;
    }
  }

  @Command(name = "start", mixinStandardHelpOptions = true, description = "Start capturing a table's current (or given) snapshot.")
  static final class Start implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "TABLE", description = "Table id.")
    String table;

    @Option(names = "--snapshot", description = "Snapshot id (default: the current one).")
    String snapshot = "";

    @Option(names = "--snapshots", split = ",", description = "Iceberg: these snapshot ids.")
    List<String> snapshots = List.of();

    @Option(names = "--latest", defaultValue = "0",
        description = "Iceberg: the latest N snapshots; those already captured are skipped.")
    int latest;

    @Mixin PolicyOptions what;

    @Override
    public Integer call() {
      CapturePolicy policy = what.policy();
      var r = withControl(server, s -> s.startCapture(StartCaptureRequest.newBuilder().setTableId(table)
          .setSnapshotId(snapshot).addAllSnapshotIds(snapshots).setLatestSnapshots(latest).setPolicy(policy).build()));
      System.out.println("capture started: job " + r.getJobId());
      System.out.println("follow it with: conveyor capture status " + r.getJobId());
      return 0;
    }
  }

  @Command(name = "status", mixinStandardHelpOptions = true, description = "A capture's job tree with progress.")
  static final class Status implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "JOB_ID", description = "The capture's job id.")
    String jobId;

    /** --json: conveyor.reconcile.GetJobTreeResponse ({"root": JobTreeNode with its children}). */
    @Mixin dev.conveyor.app.cli.JsonOption json;

    @Override
    public Integer call() {
      var tree = withControl(server, s -> s.getJobTree(GetJobTreeRequest.newBuilder().setJobId(jobId).build()));
      if (json.print(tree)) {
        return 0;
      }
      TreeView.print(tree.getRoot(), System.out);
      return 0;
    }
  }

  @Command(name = "jobs", mixinStandardHelpOptions = true, description = "Capture jobs (roots by default).")
  static final class Jobs implements Callable<Integer> {
    @Mixin ServerOption server;

    @Option(names = "--state", split = ",", description = "Only these states (QUEUED, RUNNING, WAITING, ...).")
    List<String> states = List.of();

    @Option(names = "--all", description = "Include child jobs.")
    boolean all;

    /** --json: conveyor.reconcile.ListJobsResponse ({"jobs": [JobInfo…]}). */
    @Mixin dev.conveyor.app.cli.JsonOption json;

    @Override
    public Integer call() {
      ListJobsRequest.Builder req = ListJobsRequest.newBuilder().setRootsOnly(!all).setLimit(200);
      for (String s : states) {
        req.addStates(JobState.valueOf("RJS_" + dev.conveyor.ledger.jobs.JobState.parse(s).name()));
      }
      var r = withControl(server, s -> s.listJobs(req.build()));
      if (json.print(r)) {
        return 0;
      }
      Table t = new Table("JOB", "KIND", "STATE", "PROGRESS", "ERROR");
      r.getJobsList().forEach(j -> t.row(j.getJobId(), j.getKind().name().substring(4), j.getState().name().substring(4),
          j.getProgress().getFilesDone() + "/" + j.getProgress().getFilesTotal(), j.getLastError()));
      t.printOr(System.out, "no capture jobs");
      return 0;
    }
  }

  @Command(name = "cancel", mixinStandardHelpOptions = true, description = "Cancel a capture and everything under it.")
  static final class Cancel implements Callable<Integer> {
    @Mixin ServerOption server;

    @Parameters(paramLabel = "JOB_ID", description = "The capture's job id.")
    String jobId;

    @Override
    public Integer call() {
      var r = withControl(server, s -> s.cancelJob(CancelJobRequest.newBuilder().setJobId(jobId)
          .setReason("cancelled from the CLI").build()));
      System.out.println(jobId + " is now " + r.getJob().getState().name().substring(4));
      return 0;
    }
  }

  @Command(name = "stats", mixinStandardHelpOptions = true,
      description = {"The captured statistics of a table (read from the ledger; never creates one), newest finalized"
          + " snapshot by default: per column its type (Iceberg/SQL names), rows, nulls, NaNs, distinct values"
          + " (estimate and bounds), min and max; --files adds the same per file."})
  static final class Stats implements Callable<Integer> {
    /** Unreadable files named in the summary line; the rest are counted. */
    static final int UNREADABLE_SHOWN = 10;
    static final int MAX_FILES = 100_000;

    @Mixin LedgerOption ledgerOption;

    @Parameters(paramLabel = "TABLE", description = "Table id.")
    String table;

    @Option(names = "--snapshot", description = "Snapshot id (default: the newest finalized one).")
    String snapshot;

    @Option(names = "--files", description = "Also per file (the first --limit files by path).")
    boolean files;

    @Option(names = "--limit", defaultValue = "100", description = "With --files: at most this many files"
        + " (1-100000, default ${DEFAULT-VALUE}).")
    int limit;

    @Option(names = "--columns", split = ",", paramLabel = "NAME", description = "Only these columns (comma-separated).")
    List<String> columns = List.of();

    @Option(names = "--json", description = "Print JSON: table, snapshot, completeness, columns, files.")
    boolean json;

    @Override
    public Integer call() throws Exception {
      if (limit < 1 || limit > MAX_FILES) {
        throw new IllegalArgumentException("--limit must be between 1 and " + MAX_FILES + ", got " + limit);
      }
      try (Ledger ledger = ledgerOption.openExisting()) {
        SnapshotChoice choice = snapshot != null ? new SnapshotChoice(snapshot, "given", null)
            : SnapshotChoice.of(ledger, table);
        String snap = choice.snapshot();
        StatsView.View view = ledger.read(tx -> StatsView.read(tx, new StatsView.Ask(table, snap,
            new java.util.LinkedHashSet<>(columns), files ? limit : 0)));
        if (json) {
          view.json().put("snapshot_chosen", choice.how());
          StatsView.printJson(view, System.out);
          return 0;
        }
        if (choice.note() != null) {
          System.out.println(choice.note());
        }
        var completeness = ledger.read(tx -> CaptureCompleteness.ofSnapshot(tx, table, snap, UNREADABLE_SHOWN));
        completeness.ifPresent(c -> {
          System.out.println(CaptureCompleteness.describe(c));
          if (c.getPartial()) {
            System.out.println("the statistics below cover only the " + c.getFilesCaptured() + " captured files");
          }
        });
        StatsView.printText(view, System.out);
      }
      return 0;
    }
  }
}
