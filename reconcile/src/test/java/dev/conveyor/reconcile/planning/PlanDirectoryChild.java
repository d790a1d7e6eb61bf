package dev.conveyor.reconcile.planning;

import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import com.sun.management.GarbageCollectionNotificationInfo;
import java.lang.management.GarbageCollectorMXBean;
import java.lang.management.ManagementFactory;
import java.lang.management.MemoryUsage;
import java.util.concurrent.atomic.AtomicLong;
import javax.management.NotificationEmitter;
import javax.management.openmbean.CompositeData;
import java.lang.management.MemoryPoolMXBean;
import java.lang.management.MemoryType;

/**
 * The child JVM of {@link LargeDirectoryPlanningContract} (started with -Xmx256m): plans a capture of
 * the directory {@code args[1]} on the ledger {@code args[0]} through the real planner and prints what
 * it measured — the planning time, the largest page, the heap's peak (garbage included) and the most
 * heap live after any collection — as {@code key=value} lines. With {@code args[2]} = {@code complete}
 * it then succeeds every group and finalizes the snapshot, and prints how long that took.
 */
public final class PlanDirectoryChild {
  private PlanDirectoryChild() {}

  /** The most heap in use right after any collection: the live set's high-water mark. */
  private static final AtomicLong LIVE_PEAK = new AtomicLong();

  private static void watchCollections() {
    for (GarbageCollectorMXBean gc : ManagementFactory.getGarbageCollectorMXBeans()) {
      ((NotificationEmitter) gc).addNotificationListener((notification, handback) -> {
        if (GarbageCollectionNotificationInfo.GARBAGE_COLLECTION_NOTIFICATION.equals(notification.getType())) {
          var info = GarbageCollectionNotificationInfo.from((CompositeData) notification.getUserData());
          long after = info.getGcInfo().getMemoryUsageAfterGc().values().stream().mapToLong(MemoryUsage::getUsed).sum();
          LIVE_PEAK.accumulateAndGet(after, Math::max);
        }
      }, null, null);
    }
  }

  /** Plays a worker that succeeds every group, 500 at a time, then runs the finalizer; prints the timing. */
  private static void completeEveryGroup(Ledger ledger, CapturePlanner planner, String root) {
    long started = System.nanoTime();
    LeaseRequest groups = LeaseRequest.of("worker", Set.of(JobKind.EXEC_FILE_GROUP), Duration.ofMinutes(5))
        .withMaxJobs(500);
    long completed = 0;
    List<LeaseGrant> leased;
    while (!(leased = ledger.jobs().lease(groups)).isEmpty()) {
      ledger.jobs().completeAll(leased, new Completion.Succeeded(null));
      completed += leased.size();
    }
    long groupsDone = System.nanoTime();
    if (planner.runOnce("acceptance", 1) != 1) {
      throw new IllegalStateException("no FINALIZE_SNAPSHOT to run after " + completed + " groups");
    }
    System.out.println("groups_completed=" + completed);
    System.out.println("complete_ms=" + (groupsDone - started) / 1_000_000);
    System.out.println("finalize_ms=" + (System.nanoTime() - groupsDone) / 1_000_000);
    System.out.println("root_state=" + ledger.jobs().get(root).state());
  }

  public static void main(String[] args) throws Exception {
    watchCollections();
    try (Ledger ledger = Ledger.open(args[0])) {
      CaptureTables tables = new CaptureTables(ledger);
      tables.register("big", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
          .setLocation(args[1]).build());
      CapturePlanner planner = new CapturePlanner(ledger, tables, CapturePlanner.Limits.DEFAULT);
      String root = planner.startCapture("big", "", CapturePolicy.newBuilder().setFileStats(true).build());
      long started = System.nanoTime();
      if (planner.runOnce("acceptance", 1) != 1) {
        throw new IllegalStateException("no PLAN_TABLE to run");
      }
      long listed = System.nanoTime();
      Job table = ledger.jobs().get(root);
      if (table.state() != JobState.WAITING) {
        throw new IllegalStateException("PLAN_TABLE ended " + table.state() + ": " + table.lastError());
      }
      // the pages exist only until the snapshot is planned: measure them now
      long[] pages = ledger.transact(tx -> tx.queryOne("SELECT COUNT(*), COALESCE(SUM(file_count), 0),"
          + " COALESCE(MAX(LENGTH(files)), 0) FROM capture_plan_pages", rs -> new long[] {rs.getLong(1), rs.getLong(2),
          rs.getLong(3)}).orElseThrow());
      if (planner.runOnce("acceptance", 1) != 1) {
        throw new IllegalStateException("no PLAN_SNAPSHOT to run");
      }
      long planned = System.nanoTime();
      Job snapshot = ledger.jobs().children(root).stream().filter(j -> j.kind() == JobKind.PLAN_SNAPSHOT)
          .findFirst().orElseThrow();
      Job now = ledger.jobs().get(snapshot.id());
      if (args.length > 2 && args[2].equals("complete")) {
        completeEveryGroup(ledger, planner, root);
      }
      long peak = 0;
      for (MemoryPoolMXBean pool : ManagementFactory.getMemoryPoolMXBeans()) {
        if (pool.getType() == MemoryType.HEAP) {
          peak += pool.getPeakUsage().getUsed();
        }
      }
      System.out.println("snapshot_job=" + snapshot.id());
      System.out.println("snapshot_state=" + now.state());
      System.out.println("list_ms=" + (listed - started) / 1_000_000);
      System.out.println("plan_ms=" + (planned - listed) / 1_000_000);
      System.out.println("pages=" + pages[0]);
      System.out.println("paged_files=" + pages[1]);
      System.out.println("largest_page=" + pages[2]);
      System.out.println("max_heap=" + Runtime.getRuntime().maxMemory());
      System.out.println("peak_heap=" + peak);
      System.out.println("live_peak=" + LIVE_PEAK.get());
      System.out.println("done");
    }
  }
}
