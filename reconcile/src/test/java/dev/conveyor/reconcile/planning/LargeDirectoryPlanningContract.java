package dev.conveyor.reconcile.planning;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.reconcile.LeasedFileGroupExecution;
import dev.conveyor.api.reconcile.LeasedPlanInput;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.testing.ChildJvm;
import java.io.IOException;
import java.nio.file.FileStore;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.BitSet;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.Test;

/**
 * The acceptance test of planning at scale: a directory of {@code conveyor.planning.files} entries
 * (default {@value #DEFAULT_FILES}; empty files with short names) is planned through the real planner in
 * a child JVM limited to a 256 MB heap; every file lands in exactly one group, the groups respect the
 * limits, and no ledger row the plan wrote (page or job payload) reaches 4 MB. With
 * {@code -Dconveyor.planning.complete=true} the child then succeeds every group and finalizes the snapshot
 * instead (the job tree at this size: parent resolution and the finalizer's {@code files_planned}).
 */
public abstract class LargeDirectoryPlanningContract {
  static final int DEFAULT_FILES = 1_000_000;
  private static final long FOUR_MB = 4L * 1024 * 1024;

  /**
   * The directory of {@code n} empty files, made once per build under target/ and shared by both
   * backends' runs: making (and deleting) a million files costs more than planning them.
   */
  private static Path sharedDirectory(int n) throws IOException {
    return Files.createDirectories(Path.of("target", "large-directory-" + n).toAbsolutePath());
  }

  /** The ledger URL the child plans on (created before it starts). */
  protected abstract String ledgerUrl();

  private static int files() {
    return Integer.getInteger("conveyor.planning.files", DEFAULT_FILES);
  }

  /** Free inodes of the filesystem holding {@code dir}, from {@code df -Pi} (the files are empty: inodes, not bytes). */
  private static long freeInodes(Path dir) throws IOException, InterruptedException {
    Process df = new ProcessBuilder("df", "-Pi", dir.toString()).redirectErrorStream(true).start();
    String out = new String(df.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8);
    assertThat(df.waitFor()).as("df -Pi: %s", out).isZero();
    String[] last = out.strip().split("\n");
    String[] fields = last[last.length - 1].trim().split("\\s+");
    // filesystems without a fixed inode table (btrfs, some overlays) report 0 or "-": no limit to check
    return fields[1].equals("-") || fields[1].equals("0") ? Long.MAX_VALUE : Long.parseLong(fields[3]);
  }

  @Test
  void aDirectoryOfAMillionFilesPlansInA256MbHeapWithNoRowAbove4Mb() throws Exception {
    int n = files();
    Path table = sharedDirectory(n);
    long createMs = 0;
    Path made = table.resolveSibling(table.getFileName() + ".complete");
    if (!Files.exists(made)) {
      FileStore store = Files.getFileStore(table);
      assertThat(store.getUsableSpace()).as("free disk").isGreaterThan(2L * 1024 * 1024 * 1024);
      assertThat(freeInodes(table)).as("free inodes (df -Pi %s)", table).isGreaterThan(n + 100_000L);
      long started = System.nanoTime();
      for (int i = 0; i < n; i++) {
        Path f = table.resolve(i + ".parquet");
        if (!Files.exists(f)) {
          Files.createFile(f);
        }
      }
      createMs = (System.nanoTime() - started) / 1_000_000;
      Files.createFile(made);
    }

    Map<String, String> out = new HashMap<>();
    boolean complete = Boolean.getBoolean("conveyor.planning.complete");
    try (ChildJvm child = ChildJvm.start(PlanDirectoryChild.class, ledgerUrl(), table.toString(),
        complete ? "complete" : "plan-only")) {
      for (String line : child.readUntil("done")) {
        int eq = line.indexOf('=');
        if (eq > 0) {
          out.put(line.substring(0, eq), line.substring(eq + 1));
        }
      }
    }
    assertThat(Long.parseLong(out.get("max_heap"))).isLessThanOrEqualTo(256L * 1024 * 1024);
    assertThat(out.get("snapshot_state")).isEqualTo("WAITING");
    assertThat(Long.parseLong(out.get("paged_files"))).isEqualTo(n);
    assertThat(Long.parseLong(out.get("largest_page"))).isLessThan(FOUR_MB);

    if (complete) {
      // every group succeeded (no statistics: this measures the job tree), the finalizer ran on the count
      assertThat(out.get("root_state")).isEqualTo("SUCCEEDED");
      assertThat(Long.parseLong(out.get("groups_completed"))).isEqualTo((n + 15) / 16);
      try (Ledger ledger = Ledger.open(ledgerUrl())) {
        long filesPlanned = ledger.transact(tx -> tx.queryLong("SELECT files_planned FROM capture_snapshots"));
        assertThat(filesPlanned).isEqualTo(n);
      }
      System.out.printf("completing %s groups took %s ms, finalizing %s ms%n", out.get("groups_completed"),
          out.get("complete_ms"), out.get("finalize_ms"));
      return;
    }
    String snapshot = out.get("snapshot_job");
    BitSet seen = new BitSet(n);
    long groups;
    long largestPayload;
    try (Ledger ledger = Ledger.open(ledgerUrl())) {
      LeasedPlanInput input = LeasedPlanInput.parseFrom(ledger.jobs().get(snapshot).payload());
      assertThat(input.getFilesListed()).isEqualTo(n);
      assertThat(input.getFilesCount()).isZero();
      largestPayload = ledger.transact(tx -> tx.queryLong("SELECT MAX(LENGTH(payload)) FROM jobs"));
      groups = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE parent_id = ?"
          + " AND kind = 'EXEC_FILE_GROUP'", snapshot));
      long planned = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE parent_id = ?", snapshot));
      assertThat(planned).isEqualTo(groups + 1); // and the finalizer
      LeasedPlanInput finalizer = LeasedPlanInput.parseFrom(ledger.transact(tx -> tx.queryOne("SELECT payload"
          + " FROM jobs WHERE parent_id = ? AND kind = 'FINALIZE_SNAPSHOT'", rs -> rs.getBytes(1), snapshot))
          .orElseThrow());
      assertThat(finalizer.getFilesPlanned()).isEqualTo(n);
      for (int from = 0; from < groups; from += 5_000) {
        int lo = from;
        List<byte[]> page = ledger.transact(tx -> tx.query("SELECT payload FROM jobs WHERE parent_id = ?"
            + " AND kind = 'EXEC_FILE_GROUP' AND child_ordinal >= ? AND child_ordinal < ?", rs -> rs.getBytes(1),
            snapshot, lo, lo + 5_000));
        for (byte[] p : page) {
          LeasedFileGroupExecution exec = LeasedFileGroupExecution.parseFrom(p);
          assertThat(exec.getFilesCount()).isBetween(1, CapturePlanner.Limits.DEFAULT.maxFilesPerGroup());
          for (String path : exec.getFilePathsList()) {
            int index = Integer.parseInt(path.substring(path.lastIndexOf('/') + 1, path.length() - ".parquet".length()));
            assertThat(seen.get(index)).as("file %s planned twice", path).isFalse();
            seen.set(index);
          }
        }
      }
      long pagesLeft = ledger.transact(tx -> tx.queryLong("SELECT COUNT(*) FROM capture_plan_pages"));
      assertThat(pagesLeft).isZero(); // dropped once the groups carry the files
    }
    assertThat(seen.cardinality()).isEqualTo(n);
    assertThat(groups).isEqualTo((n + 15) / 16);
    assertThat(largestPayload).isLessThan(FOUR_MB);
    System.out.printf("planning %,d files: created in %,d ms; listed into %s pages (largest %s bytes) in %s ms;"
        + " planned %,d groups in %s ms; heap: peak %,d MB (garbage included), at most %,d MB live after a"
        + " collection, limit %,d MB; largest job payload %,d bytes%n", n, createMs, out.get("pages"),
        out.get("largest_page"), out.get("list_ms"), groups, out.get("plan_ms"),
        Long.parseLong(out.get("peak_heap")) >> 20, Long.parseLong(out.get("live_peak")) >> 20,
        Long.parseLong(out.get("max_heap")) >> 20, largestPayload);
  }
}
