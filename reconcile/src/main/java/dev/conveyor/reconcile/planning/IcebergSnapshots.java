package dev.conveyor.reconcile.planning;

import dev.conveyor.api.reconcile.PlannedFile;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URI;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.FileFormat;
import org.apache.iceberg.FileScanTask;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.hadoop.HadoopTables;
import org.apache.iceberg.io.CloseableIterable;

/**
 * The Iceberg connector: a filesystem (Hadoop) table on a local warehouse path. Plans the data files
 * of chosen snapshots: explicit ids, the latest N, or the current one. Only Parquet data files; a
 * snapshot with row-level delete files is refused (its visible rows are not its files' rows).
 */
public final class IcebergSnapshots {
  /** One snapshot and the data files whose rows it shows. */
  public record SnapshotFiles(String snapshotId, List<PlannedFile> files) {}

  private IcebergSnapshots() {}

  public static List<SnapshotFiles> plan(String location, List<String> snapshotIds, int latest) {
    Table table;
    try {
      table = new HadoopTables(new Configuration()).load(location);
    } catch (NoSuchTableException e) {
      throw new IllegalArgumentException("connector.location " + location + " is not an Iceberg table: "
          + e.getMessage());
    }
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
    List<SnapshotFiles> out = new ArrayList<>();
    for (Snapshot s : chosen) {
      out.add(new SnapshotFiles(String.valueOf(s.snapshotId()), files(table, s)));
    }
    return out;
  }

  private static List<PlannedFile> files(Table table, Snapshot snapshot) {
    List<PlannedFile> files = new ArrayList<>();
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
        files.add(PlannedFile.newBuilder().setPath(localPath(task.file().location()))
            .setSizeBytes(task.file().fileSizeInBytes()).build());
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    files.sort(Comparator.comparing(PlannedFile::getPath));
    return files;
  }

  private static String localPath(String location) {
    return location.startsWith("file:") ? Path.of(URI.create(location)).toString() : location;
  }
}
