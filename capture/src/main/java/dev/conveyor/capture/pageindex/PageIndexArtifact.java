package dev.conveyor.capture.pageindex;

import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BOOLEAN;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT32;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64;

import com.google.protobuf.ByteString;
import dev.conveyor.api.catalog.IndexArtifactRecord;
import dev.conveyor.api.catalog.IndexCoverage;
import dev.conveyor.api.catalog.LeasedFileGroupIndexArtifact;
import dev.conveyor.capture.stats.FileCaptureException;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.Map;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Types;

/**
 * A page index as a sidecar artifact: a small Parquet file, one row per page, content-addressed by
 * the SHA-256 of its bytes. Written deterministically, so capturing the same file twice yields the
 * same artifact id, and a retried submit is the same request.
 */
public final class PageIndexArtifact {
  public static final String FORMAT = "parquet-page-index";
  public static final int FORMAT_VERSION = 1;
  public static final String CONTENT_TYPE = "application/vnd.apache.parquet";

  static final MessageType SCHEMA = Types.buildMessage()
      .required(BINARY).as(LogicalTypeAnnotation.stringType()).named("column")
      .required(INT32).named("row_group")
      .required(INT32).named("page")
      .required(BOOLEAN).named("dictionary")
      .required(INT64).named("offset")
      .required(INT32).named("compressed_size")
      .required(INT64).named("first_row_index")
      .required(INT64).named("row_count")
      .optional(INT64).named("null_count")
      .optional(BINARY).as(LogicalTypeAnnotation.stringType()).named("min")
      .optional(BINARY).as(LogicalTypeAnnotation.stringType()).named("max")
      .named("page_index");

  private PageIndexArtifact() {}

  /**
   * Writes the artifact through a scratch file, checks it reads back as one row per indexed page,
   * and answers it with its record (its URI is set by the store that keeps it).
   */
  public static LeasedFileGroupIndexArtifact build(PageIndex index, String tableId, String snapshotId, Path scratch)
      throws FileCaptureException {
    Path tmp = null;
    try {
      Files.createDirectories(scratch);
      tmp = Files.createTempFile(scratch, "page-index-", ".parquet");
      Files.delete(tmp);
      write(index, tmp);
      validate(index, tmp);
      byte[] bytes = Files.readAllBytes(tmp);
      IndexArtifactRecord record = IndexArtifactRecord.newBuilder().setArtifactId(sha256(bytes)).setTableId(tableId)
          .setSnapshotId(snapshotId).setSourceFile(index.sourceFile()).setFormat(FORMAT)
          .setFormatVersion(FORMAT_VERSION).setContentType(CONTENT_TYPE).setSizeBytes(bytes.length)
          .setCoverage(IndexCoverage.newBuilder().addAllColumns(index.columns()).setRowGroups(index.rowGroups())
              .setPages(index.dataPages()).setFromNativePageIndex(index.fromNativePageIndex()))
          .build();
      return LeasedFileGroupIndexArtifact.newBuilder().setRecord(record).setContent(ByteString.copyFrom(bytes))
          .setContentType(CONTENT_TYPE).build();
    } catch (IOException | RuntimeException e) {
      // the source was read already: failing to write our own sidecar is this worker's fault
      throw FileCaptureException.localFault(index.sourceFile() + ": cannot write its page index (" + e.getMessage()
          + ")", e);
    } finally {
      if (tmp != null) {
        try {
          Files.deleteIfExists(tmp);
        } catch (IOException e) {
          // a scratch file left behind is harmless
        }
      }
    }
  }

  private static void write(PageIndex index, Path file) throws IOException {
    SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
    try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file)).withType(SCHEMA)
        .withExtraMetaData(new java.util.TreeMap<>(Map.of("conveyor.format", FORMAT, // sorted: same bytes every run
            "conveyor.format_version", String.valueOf(FORMAT_VERSION), "conveyor.source_file", index.sourceFile(),
            "conveyor.from_native_page_index", String.valueOf(index.fromNativePageIndex()))))
        .build()) {
      for (PageEntry e : index.entries()) {
        Group g = groups.newGroup().append("column", e.column()).append("row_group", e.rowGroup())
            .append("page", e.page()).append("dictionary", e.dictionary()).append("offset", e.offset())
            .append("compressed_size", e.compressedSize()).append("first_row_index", e.firstRowIndex())
            .append("row_count", e.rowCount());
        if (e.nullCount() != null) {
          g.append("null_count", e.nullCount());
        }
        if (e.min() != null) {
          g.append("min", e.min());
        }
        if (e.max() != null) {
          g.append("max", e.max());
        }
        w.write(g);
      }
    }
  }

  /** The artifact must name its source and hold exactly one row per indexed page. */
  static void validate(PageIndex index, Path artifact) throws IOException {
    try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(artifact))) {
      Map<String, String> meta = reader.getFooter().getFileMetaData().getKeyValueMetaData();
      if (!index.sourceFile().equals(meta.get("conveyor.source_file")) || !FORMAT.equals(meta.get("conveyor.format"))) {
        throw new IOException("the artifact does not describe " + index.sourceFile());
      }
      if (reader.getRecordCount() != index.entries().size()) {
        throw new IOException("the artifact holds " + reader.getRecordCount() + " pages, expected "
            + index.entries().size());
      }
    }
  }

  static String sha256(byte[] bytes) {
    try {
      return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(bytes));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException("SHA-256 is always available", e);
    }
  }
}
