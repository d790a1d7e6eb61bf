package dev.conveyor.app.admin;

import dev.conveyor.app.cli.ErrorReporter.UserError;
import dev.conveyor.app.cli.Table;
import dev.conveyor.app.maintenance.MaintenanceTasks;
import dev.conveyor.app.serve.MaintenanceSettings;
import dev.conveyor.app.serve.ServeSettings;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.maintenance.Maintenance;
import dev.conveyor.ledger.maintenance.RetentionReport;
import dev.conveyor.ledger.maintenance.Vacuum;
import java.io.IOException;
import java.nio.file.Path;
import java.util.EnumMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Callable;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Option;

/** Operator verbs on the ledger itself: retention now (or what it would delete), and vacuum. */
@Command(name = "admin", mixinStandardHelpOptions = true,
    description = "Operator verbs on the ledger: 'admin retention' deletes (or with --dry-run lists) what is past its"
        + " retention age, 'admin vacuum' gives freed space back to the database.",
    subcommands = {AdminCommand.Retention.class, AdminCommand.VacuumLedger.class})
public final class AdminCommand implements Runnable {
  @Override
  public void run() {
    new CommandLine(this).usage(System.out);
  }

  /** Where the node's settings are: the same options as {@code serve}. */
  static final class NodeOptions {
    @Option(names = "--data-dir", defaultValue = "conveyor-data",
        description = "The node's data directory (its conveyor.properties and SQLite ledger) (default: ${DEFAULT-VALUE}).")
    Path dataDir;

    @Option(names = "--config", paramLabel = "FILE",
        description = "The node's configuration file (default: <data-dir>/conveyor.properties if present).")
    Path config;

    @Option(names = "--ledger", paramLabel = "URL",
        description = "The ledger (default: the configuration's 'ledger', else $CONVEYOR_LEDGER, else"
            + " sqlite:<data-dir>/conveyor.db).")
    String ledger;

    ServeSettings settings() throws IOException {
      Map<ServeSettings.Key, String> flags = new EnumMap<>(ServeSettings.Key.class);
      if (ledger != null) {
        flags.put(ServeSettings.Key.LEDGER, ledger);
      }
      return ServeSettings.load(config, dataDir, flags);
    }
  }

  @Command(name = "retention", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Delete now what is past its retention age, in batches of retention.batch-size rows per"
          + " transaction, and print the rows deleted per table with the ages in force (the retention.* keys of the"
          + " node's configuration; see 'conveyor serve --print-config'). With --dry-run, print what would be"
          + " deleted and delete nothing.",
          "A running node already does this every retention.interval on whichever node leads maintenance; while"
              + " one leads, this command refuses (use --dry-run to look).",
          "Never deleted: anything a live merge-queue request still shows, jobs of trees that are still running,"
              + " messages a consumer group has not committed, and capture statistics (the product)."})
  public static final class Retention implements Callable<Integer> {
    @CommandLine.Mixin NodeOptions node;

    @Option(names = "--dry-run", description = "Only count what is due; delete nothing.")
    boolean dryRun;

    @Override
    public Integer call() throws IOException {
      ServeSettings settings = node.settings();
      MaintenanceSettings m = settings.maintenance();
      try (Ledger ledger = Ledger.open(settings.ledger())) {
        Maintenance maintenance = new Maintenance(ledger, "admin-" + ProcessHandle.current().pid(),
            MaintenanceTasks.of(ledger, m.ages()), m.options(), Maintenance.Observer.NONE);
        RetentionReport report;
        if (dryRun) {
          report = maintenance.dryRun();
        } else {
          Optional<RetentionReport> ran = maintenance.runOnceIfFree();
          if (ran.isEmpty()) {
            var leader = maintenance.leader().orElseThrow();
            throw new UserError("maintenance is led by " + leader.holder() + " (lease until " + leader.expiresAt()
                + "), which runs retention every " + MaintenanceSettings.describe(Optional.of(m.interval())),
                "let it, or look with 'conveyor admin retention --dry-run'");
          }
          report = ran.get();
        }
        print(report, m);
        return report.failed() ? 1 : 0;
      }
    }

    private static void print(RetentionReport report, MaintenanceSettings m) {
      System.out.println((report.dryRun() ? "due for deletion at " : "deleted at ") + report.at()
          + " (batches of " + m.batchSize() + " rows):");
      Table t = new Table("TASK", "AGE", "TABLE", report.dryRun() ? "DUE" : "DELETED");
      for (var task : report.tasks()) {
        String age = MaintenanceSettings.describe(Optional.of(task.age()));
        if (task.rows().isEmpty()) {
          t.row(task.task(), age, "-", 0);
        }
        task.rows().forEach((table, n) -> t.row(task.task(), age, table, n));
      }
      t.print(System.out);
      var ages = m.ages();
      Map<String, Optional<java.time.Duration>> all = new java.util.LinkedHashMap<>();
      all.put("requests", ages.requests());
      all.put("batches", ages.batches());
      all.put("paths", ages.paths());
      all.put("build-logs", ages.buildLogs());
      all.put("jobs", ages.jobs());
      all.put("result-chunks", ages.resultChunks());
      all.put("messages", ages.messages());
      all.put("dead-letters", ages.deadLetters());
      all.put("effect-claims", ages.effectClaims());
      all.forEach((name, age) -> {
        if (age.isEmpty()) {
          System.out.println(name + ": kept forever (retention." + name + " = forever)");
        }
      });
      report.tasks().stream().filter(r -> r.failure().isPresent()).forEach(r -> System.out.println(
          "conveyor: retention of " + r.task() + " stopped: " + r.failure().get() + " (the next run goes on)"));
      if (!report.dryRun()) {
        System.out.println("total: " + report.byTable().values().stream().mapToLong(Long::longValue).sum()
            + " rows in " + report.took().toMillis() + " ms; 'conveyor admin vacuum' gives the space back");
      }
    }
  }

  @Command(name = "vacuum", mixinStandardHelpOptions = true, sortOptions = false,
      description = {"Give space that deleted rows left behind back to the database, and refresh the query"
          + " planner's statistics.",
          "SQLite: VACUUM rewrites the ledger file without its free pages, then ANALYZE. It needs the write lock"
              + " for the whole rewrite (other writers wait) and up to twice the file's size on disk while it runs:"
              + " run it after a large 'admin retention', ideally while the node is quiet.",
          "PostgreSQL: VACUUM (ANALYZE) on each table of the ledger's schema: dead rows' space becomes reusable"
              + " and statistics are fresh, without blocking readers or writers (autovacuum does the same in the"
              + " background; files shrink only where their end is free, VACUUM FULL is not run because it locks"
              + " each table)."})
  public static final class VacuumLedger implements Callable<Integer> {
    @CommandLine.Mixin NodeOptions node;

    @Override
    public Integer call() throws IOException {
      ServeSettings settings = node.settings();
      try (Ledger ledger = Ledger.open(settings.ledger())) {
        long started = System.nanoTime();
        var spaces = Vacuum.run(ledger);
        Table t = new Table("TABLE", "BEFORE", "AFTER");
        long before = 0;
        long after = 0;
        for (var s : spaces) {
          t.row(s.table().equals("*") ? "(whole file)" : s.table(), s.before(), s.after());
          before += s.before();
          after += s.after();
        }
        t.print(System.out);
        System.out.println("vacuumed ledger " + ledger.url() + ": " + before + " -> " + after + " bytes in "
            + (System.nanoTime() - started) / 1_000_000 + " ms");
        return 0;
      }
    }
  }
}
