package dev.conveyor.reconcile.planning;

import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.api.reconcile.PlannedFile;
import dev.conveyor.reconcile.iceberg.IcebergTables;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.function.Consumer;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The Iceberg connector: a filesystem (Hadoop) table on a local warehouse path. Plans the data files
 * of chosen snapshots (explicit ids, the latest N, or the current one), streamed from the manifests.
 * Only Parquet data files; a snapshot with row-level delete files is refused (its visible rows are not
 * its files' rows).
 */
public final class IcebergSnapshots {
  /** The snapshots a capture chose, in order, on their loaded table. */
  public record Chosen(Table table, List<Snapshot> snapshots) {}

  private IcebergSnapshots() {}

  public static Chosen choose(ConnectorSpec connector, List<String> snapshotIds, int latest) {
    Table table = IcebergTables.load(connector);
    String location = connector.getLocation();
    List<Snapshot> all = new ArrayList<>();
    table.snapshots().forEach(all::add);
    all.sort(Comparator.comparingLong(Snapshot::sequenceNumber).thenComparingLong(Snapshot::timestampMillis));
    List<Snapshot> chosen = new ArrayList<>();
    if (!snapshotIds.isEmpty()) {
      for (String id : snapshotIds) {
        chosen.add(all.stream().filter(s -> String.valueOf(s.snapshotId()).equals(id)).findFirst()
            .orElseThrow(() -> new IllegalArgumentException("snapshot " + id + " is not in Iceberg table " + location
                + " (it has " + all.stream().map(s -> String.valueOf(s.snapshotId())).toList() + ")")));
      }
    } else if (latest > 0) {
      chosen.addAll(all.subList(Math.max(0, all.size() - latest), all.size()));
    } else if (table.currentSnapshot() != null) {
      chosen.add(table.currentSnapshot());
    }
    return new Chosen(table, List.copyOf(chosen));
  }

  /**
   * The snapshots committed at or after {@code sinceMs} (the table's own clock) and the current one, in
   * commit order: what a schedule captures (those already finalized are skipped by the planner).
   */
  public static Chosen since(ConnectorSpec connector, long sinceMs) {
    Table table = IcebergTables.load(connector);
    List<Snapshot> chosen = new ArrayList<>();
    table.snapshots().forEach(s -> {
      if (s.timestampMillis() >= sinceMs) {
        chosen.add(s);
      }
    });
    Snapshot current = table.currentSnapshot();
    if (current != null && chosen.stream().noneMatch(s -> s.snapshotId() == current.snapshotId())) {
      chosen.add(current);
    }
    chosen.sort(Comparator.comparingLong(Snapshot::sequenceNumber).thenComparingLong(Snapshot::timestampMillis));
    return new Chosen(table, List.copyOf(chosen));
  }

  /** The commit time of the table's current snapshot; 0 when it has none. */
  public static long currentCommitMillis(ConnectorSpec connector) {
    Snapshot current = IcebergTables.load(connector).currentSnapshot();
    return current == null ? 0 : current.timestampMillis();
  }

  /**
   * Streams the data files of {@code snapshot} into {@code sink} in manifest order (stable for a
   * snapshot), never holding the list; answers how many there were.
   */
  public static long scan(Table table, Snapshot snapshot, Consumer<PlannedFile> sink) {
    long files = 0;
    try (CloseableIterable<FileScanTask> tasks = table.newScan().useSnapshot(snapshot.snapshotId()).planFiles()) {
      for (FileScanTask task : tasks) {
        if (!task.deletes().isEmpty()) {
          throw new IllegalArgumentException("snapshot " + snapshot.snapshotId() + " has row-level delete files;"
              + " capture reads whole data files and does not apply merge-on-read deletes");
        }
        if (task.file().format() != FileFormat.PARQUET) {
          throw new IllegalArgumentException("snapshot " + snapshot.snapshotId() + " has a " + task.file().format()
              + " data file (" + task.file().location() + "); only Parquet data files are captured");
        }
        sink.accept(PlannedFile.newBuilder().setPath(localPath(task.file().location()))
            .setSizeBytes(task.file().fileSizeInBytes()).build());
        files++;
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    return files;
  }

  private static String localPath(String location) {
    return location.startsWith("file:") ? Path.of(URI.create(location)).toString() : location;
  }
}
