package dev.conveyor.reconcile.iceberg;

import dev.conveyor.api.catalog.ColumnStats;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.ByteBuffer;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.UUID;
import org.apache.iceberg.GenericBlobMetadata;
import org.apache.iceberg.GenericStatisticsFile;
import org.apache.iceberg.HasTableOperations;
import org.apache.iceberg.Schema;
import org.apache.iceberg.Snapshot;
import org.apache.iceberg.StatisticsFile;
import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.CommitStateUnknownException;
import org.apache.iceberg.io.OutputFile;
import org.apache.iceberg.puffin.Blob;
import org.apache.iceberg.puffin.Puffin;
import org.apache.iceberg.puffin.PuffinWriter;
import org.apache.iceberg.puffin.StandardBlobTypes;
import org.apache.iceberg.types.Types;

/**
 * Writes a captured snapshot's NDV sketches as an Iceberg Puffin statistics file (one
 * {@code apache-datasketches-theta-v1} blob per column, its {@code ndv} property the rounded estimate)
 * next to the table's metadata, and registers it as the snapshot's statistics file, replacing any earlier
 * one (an engine's {@code ANALYZE} does the same). The sketches' values were hashed by Iceberg's
 * single-value serialization (value_encoding 1), so engines can union them with their own; a column
 * whose sketch was hashed otherwise, or that the snapshot's schema does not have, gets no blob.
 */
public final class PuffinStatistics {
  /** {@code NdvSketch.value_encoding} of sketches an engine can use. */
  public static final int ICEBERG_VALUE_ENCODING = 1;
  public static final String CREATED_BY = "Conveyor capture";

  private PuffinStatistics() {}

  /** What was registered: the file, its size and the columns it covers. */
  public record Published(String path, long sizeBytes, List<String> columns) {}

  /**
   * Writes and registers the statistics file of {@code snapshotId}; answers empty columns (and writes
   * nothing) when no column has a usable sketch.
   */
  public static Published publish(Table table, long snapshotId, List<ColumnStats> columns) {
    Snapshot snapshot = table.snapshot(snapshotId);
    if (snapshot == null) {
      throw new IllegalArgumentException("snapshot " + snapshotId + " is no longer in Iceberg table " + table.name()
          + " (expired?); its statistics cannot be registered");
    }
    Schema schema = snapshot.schemaId() != null && table.schemas().containsKey(snapshot.schemaId())
        ? table.schemas().get(snapshot.schemaId()) : table.schema();
    List<Blob> blobs = new ArrayList<>();
    List<String> covered = new ArrayList<>();
    for (ColumnStats c : columns) {
      Types.NestedField field = schema.findField(c.getColumn());
      if (field == null || c.getNdv().getThetaSketch().isEmpty()
          || c.getNdv().getValueEncoding() != ICEBERG_VALUE_ENCODING) {
        continue;
      }
      blobs.add(new Blob(StandardBlobTypes.APACHE_DATASKETCHES_THETA_V1, List.of(field.fieldId()), snapshotId,
          snapshot.sequenceNumber(), ByteBuffer.wrap(c.getNdv().getThetaSketch().toByteArray()), null,
          Map.of("ndv", Long.toString(Math.round(c.getNdv().getEstimate())))));
      covered.add(c.getColumn());
    }
    if (blobs.isEmpty()) {
      return new Published("", 0, List.of());
    }
    String path = ((HasTableOperations) table).operations()
        .metadataFileLocation(snapshotId + "-conveyor-" + UUID.randomUUID() + ".stats");
    OutputFile out = table.io().newOutputFile(path);
    StatisticsFile file;
    try (PuffinWriter writer = Puffin.write(out).createdBy(CREATED_BY).build()) {
      blobs.forEach(writer::add);
      writer.finish();
      file = new GenericStatisticsFile(snapshotId, path, writer.fileSize(), writer.footerSize(),
          GenericBlobMetadata.from(writer.writtenBlobsMetadata()));
    } catch (IOException e) {
      deleteQuietly(table, path);
      throw new UncheckedIOException("writing statistics file " + path + ": " + e.getMessage(), e);
    }
    try {
      table.updateStatistics().setStatistics(file).commit();
    } catch (CommitStateUnknownException e) {
      throw e; // it may have been registered: the file stays
    } catch (RuntimeException e) {
      deleteQuietly(table, path); // never registered: nobody reads it
      throw e;
    }
    return new Published(path, file.fileSizeInBytes(), List.copyOf(covered));
  }

  private static void deleteQuietly(Table table, String path) {
    try {
      table.io().deleteFile(path);
    } catch (RuntimeException ignored) {
      // the file may not exist; an unreferenced statistics file is what Iceberg's orphan cleanup removes
    }
  }
}
