package dev.conveyor.capture.stats;

import dev.conveyor.api.catalog.ColumnStats;
import dev.conveyor.api.catalog.FileTarget;
import dev.conveyor.api.catalog.StatsTarget;
import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.reconcile.ColumnSelection;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.statistics.Statistics;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.metadata.BlockMetaData;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.hadoop.metadata.ParquetMetadata;
import org.apache.parquet.io.InputFile;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.PrimitiveType;

/**
 * Per-file and per-column statistics of one Parquet file from its footer: row count and size;
 * per column value count, null count, typed min and max, compressed and uncompressed sizes.
 * Footer min/max are used only where the reader trusts them (parquet-java drops, for instance, the
 * binary statistics of old writers whose sort order is unknown); a column without them is decoded.
 * Nested columns are skipped and reported as such.
 */
public final class ParquetFileStats {
  /** Footer reads only parse metadata, so one set of options serves every thread. */
  private static final ParquetReadOptions FOOTER_OPTIONS =
      ParquetReadOptions.builder(new PlainParquetConfiguration()).build();

  private ParquetFileStats() {}

  public static TargetStatsRecord capture(Path file, String tableId, String snapshotId, ColumnSelection selection)
      throws FileCaptureException {
    return capture(file, tableId, snapshotId, selection, false);
  }

  /**
   * As {@link #capture(Path, String, String, ColumnSelection)}; with {@code decode}, the selected
   * columns' pages are decoded too, adding NaN counts, NDV sketches and average widths.
   */
  public static TargetStatsRecord capture(Path file, String tableId, String snapshotId, ColumnSelection selection,
      boolean decode) throws FileCaptureException {
    return capture(file, tableId, snapshotId, selection, decode, false);
  }

  /**
   * As {@link #capture(Path, String, String, ColumnSelection, boolean)}; with {@code recomputeMinMax}, the
   * min, max and null count of every selected column come from its decoded values even where the footer
   * could be trusted (for a writer whose statistics are suspect, and to compare like with like against
   * an engine that scans).
   */
  public static TargetStatsRecord capture(Path file, String tableId, String snapshotId, ColumnSelection selection,
      boolean decode, boolean recomputeMinMax) throws FileCaptureException {
    long size;
    try {
      size = Files.size(file);
    } catch (IOException e) {
      throw new FileCaptureException(file + ": " + describe(e), e);
    }
    return capture(new LocalInputFile(file), size, file.toString(), tableId, snapshotId, selection, decode,
        recomputeMinMax);
  }

  /**
   * As above for any Parquet {@code input} of {@code size} bytes (a file on object storage, read through
   * a presigned URL); {@code path} is the file's planned path, which the record names.
   */
  public static TargetStatsRecord capture(InputFile input, long size, String path, String tableId, String snapshotId,
      ColumnSelection selection, boolean decode, boolean recomputeMinMax) throws FileCaptureException {
    String file = path;
    ParquetMetadata footer;
    Map<String, ColumnDecoder.Decoded> decoded = Map.of();
    Map<String, Accumulator> columns = new LinkedHashMap<>();
    TargetStatsRecord.Builder record = TargetStatsRecord.newBuilder();
    try {
      // the footer alone first, with shared read options: most captures need nothing else
      try (var stream = input.newStream()) {
        footer = ParquetFileReader.readFooter(input, FOOTER_OPTIONS, stream);
      }
      MessageType fileSchema = footer.getFileMetaData().getSchema();
      List<String> selected = selectedColumns(fileSchema, selection, record);
      for (ColumnDescriptor c : fileSchema.getColumns()) {
        String name = String.join(".", c.getPath());
        if (selected.contains(name)) {
          columns.put(name, new Accumulator(name, c.getPrimitiveType()));
        }
      }
      for (BlockMetaData block : footer.getBlocks()) {
        for (ColumnChunkMetaData chunk : block.getColumns()) {
          Accumulator acc = columns.get(chunk.getPath().toDotString());
          if (acc != null) {
            acc.add(chunk);
          }
        }
      }
      List<String> wanted = decode || recomputeMinMax ? selected
          : columns.values().stream().filter(a -> !a.trustworthy()).map(a -> a.name).toList();
      if (!wanted.isEmpty()) {
        try (ParquetFileReader reader = ParquetFileReader.open(input,
            ParquetReadOptions.builder(new PlainParquetConfiguration()).build())) {
          java.util.Set<String> untrusted = new java.util.HashSet<>();
          columns.values().stream().filter(a -> recomputeMinMax || !a.trustworthy()).forEach(a -> untrusted.add(a.name));
          decoded = ColumnDecoder.decode(reader, fileSchema, wanted, footer.getFileMetaData().getCreatedBy(), untrusted);
        }
      }
    } catch (IOException | RuntimeException | LinkageError e) {
      // LinkageError: a codec whose classes are absent (Hadoop's LZ4 without lz4-java) fails this file only
      throw new FileCaptureException(file + ": " + describe(e), e);
    }
    record.setTableId(tableId).setSnapshotId(snapshotId)
        .setTarget(StatsTarget.newBuilder().setFile(FileTarget.newBuilder().setPath(file)))
        .setFileCount(1).setSizeBytes(size);
    long rows = 0;
    for (BlockMetaData block : footer.getBlocks()) {
      rows += block.getRowCount();
    }
    record.setRowCount(rows);

    for (Accumulator a : columns.values()) {
      ColumnStats.Builder stats = a.build().toBuilder();
      ColumnDecoder.Decoded extra = decoded.get(a.name);
      if (extra != null) {
        stats.mergeFrom(extra.stats().build());
        if (recomputeMinMax || !a.trustworthy()) {
          stats.setNullCount(extra.nulls()).clearMin().clearMax();
          var lo = extra.min() == null ? null : ValueRenderer.render(a.type, extra.min());
          var hi = extra.max() == null ? null : ValueRenderer.render(a.type, extra.max());
          if (lo != null && hi != null) {
            stats.setMin(lo).setMax(hi);
          }
        }
      }
      record.addColumns(stats.build());
    }
    return record.build();
  }

  /** The flat columns of {@code schema} that {@code selection} names, in schema order. */
  public static List<String> selectedColumns(MessageType schema, ColumnSelection selection) {
    return selectedColumns(schema, selection, TargetStatsRecord.newBuilder());
  }

  private static List<String> selectedColumns(MessageType schema, ColumnSelection selection,
      TargetStatsRecord.Builder record) {
    List<String> flat = new ArrayList<>();
    for (ColumnDescriptor c : schema.getColumns()) {
      String name = String.join(".", c.getPath());
      if (c.getPath().length > 1 || c.getMaxRepetitionLevel() > 0) {
        record.addSkippedColumns(name + " (nested or repeated columns are not supported yet)");
      } else {
        flat.add(name);
      }
    }
    return switch (selection.getSelectionCase()) {
      case FIRST_N -> flat.subList(0, Math.min(flat.size(), Math.max(0, selection.getFirstN())));
      case EXPLICIT -> flat.stream().filter(selection.getExplicit().getNamesList()::contains).toList();
      default -> flat;
    };
  }

  private static String describe(Throwable e) {
    String m = e.getMessage() == null ? e.getClass().getSimpleName() : e.getMessage();
    if (m.contains("is not a Parquet file") || m.contains("magic number")) {
      return "not a Parquet file (" + m + ")";
    }
    if (e instanceof java.io.EOFException || m.contains("Reached the end") || m.contains("corrupted")) {
      return "truncated or corrupt Parquet file (" + m + ")";
    }
    return "unreadable Parquet file (" + m + ")";
  }

  /** Folds one column's chunks across row groups. */
  private static final class Accumulator {
    private final String name;
    private final PrimitiveType type;
    private long values;
    private long nulls;
    private long compressed;
    private long uncompressed;
    private Object min;
    private Object max;
    private boolean statsMissing;

    Accumulator(String name, PrimitiveType type) {
      this.name = name;
      this.type = type;
    }

    @SuppressWarnings({"unchecked", "rawtypes"})
    void add(ColumnChunkMetaData chunk) {
      values += chunk.getValueCount();
      compressed += chunk.getTotalSize();
      uncompressed += chunk.getTotalUncompressedSize();
      Statistics stats = chunk.getStatistics();
      if (stats == null || stats.isEmpty()) {
        statsMissing = true;
        return;
      }
      nulls += stats.getNumNulls();
      if (!stats.hasNonNullValue()) {
        if (stats.getNumNulls() < chunk.getValueCount()) {
          statsMissing = true; // values exist, but the footer has no min/max for them
        }
        return;
      }
      Object lo = stats.genericGetMin();
      Object hi = stats.genericGetMax();
      if (min == null || stats.comparator().compare(lo, min) < 0) {
        min = lo;
      }
      if (max == null || stats.comparator().compare(hi, max) > 0) {
        max = hi;
      }
    }

    /** Whether the footer's null count, min and max describe every chunk. */
    boolean trustworthy() {
      return !statsMissing;
    }

    ColumnStats build() {
      ColumnStats.Builder b = ColumnStats.newBuilder().setColumn(name)
          .setPhysicalType(type.getPrimitiveTypeName().name()).setLogicalType(ValueRenderer.logicalType(type))
          .setValueCount(values).setNullCount(nulls).setCompressedSize(compressed).setUncompressedSize(uncompressed);
      if (!statsMissing && min != null) {
        var lo = ValueRenderer.render(type, min);
        var hi = ValueRenderer.render(type, max);
        if (lo != null && hi != null) {
          b.setMin(lo).setMax(hi);
        }
      }
      return b.build();
    }
  }
}
