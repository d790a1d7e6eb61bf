package dev.conveyor.capture.stats;

import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.function.Consumer;
import org.apache.parquet.format.ColumnChunk;
import org.apache.parquet.format.FileMetaData;
import org.apache.parquet.format.RowGroup;
import org.apache.parquet.format.Statistics;
import org.apache.parquet.format.Util;

/**
 * Rewrites a Parquet file's footer to look like files other writers produce: without the page index,
 * or from an old writer whose binary statistics have no known sort order. Data pages stay as they are.
 */
public final class FooterSurgery {
  private FooterSurgery() {}

  /** The same file as written by a writer without Parquet's page index (no ColumnIndex, no OffsetIndex). */
  public static void withoutPageIndex(Path in, Path out) throws IOException {
    rewrite(in, out, meta -> chunks(meta, c -> {
      c.unsetColumn_index_offset();
      c.unsetColumn_index_length();
      c.unsetOffset_index_offset();
      c.unsetOffset_index_length();
    }));
  }

  /**
   * As an old parquet-mr wrote it: min/max only in the deprecated fields, whose order for binary
   * columns was unsigned-unknown, so readers must not trust them.
   */
  public static void asOldWriter(Path in, Path out) throws IOException {
    rewrite(in, out, meta -> {
      meta.setCreated_by("parquet-mr version 1.6.0 (build 6aa21f8776625b5fa6b18059cfebe7549f2e00cb)");
      chunks(meta, c -> {
        Statistics s = c.getMeta_data().getStatistics();
        if (s != null && s.isSetMin_value()) {
          s.setMin(s.getMin_value());
          s.setMax(s.getMax_value());
          s.unsetMin_value();
          s.unsetMax_value();
        }
      });
    });
  }

  /** The same bytes, but the footer says every column chunk is compressed with {@code codec}. */
  public static void withCodec(Path in, Path out, org.apache.parquet.format.CompressionCodec codec) throws IOException {
    rewrite(in, out, meta -> chunks(meta, c -> c.getMeta_data().setCodec(codec)));
  }

  private static void chunks(FileMetaData meta, Consumer<ColumnChunk> edit) {
    for (RowGroup g : meta.getRow_groups()) {
      g.getColumns().forEach(edit);
    }
  }

  private static void rewrite(Path in, Path out, Consumer<FileMetaData> edit) throws IOException {
    byte[] bytes = Files.readAllBytes(in);
    int footerLength = ByteBuffer.wrap(bytes, bytes.length - 8, 4).order(ByteOrder.LITTLE_ENDIAN).getInt();
    int footerStart = bytes.length - 8 - footerLength;
    FileMetaData meta = Util.readFileMetaData(new ByteArrayInputStream(bytes, footerStart, footerLength));
    edit.accept(meta);
    ByteArrayOutputStream footer = new ByteArrayOutputStream();
    Util.writeFileMetaData(meta, footer);
    ByteArrayOutputStream file = new ByteArrayOutputStream();
    file.write(Arrays.copyOf(bytes, footerStart));
    file.write(footer.toByteArray());
    file.write(ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(footer.size()).array());
    file.write("PAR1".getBytes(StandardCharsets.US_ASCII));
    Files.write(out, file.toByteArray());
  }
}
