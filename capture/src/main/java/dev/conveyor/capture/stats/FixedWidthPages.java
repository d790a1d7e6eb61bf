package dev.conveyor.capture.stats;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Set;
import org.apache.datasketches.theta.UpdateSketch;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.column.EncodingStats;
import org.apache.parquet.column.page.DataPage;
import org.apache.parquet.column.page.DataPageV1;
import org.apache.parquet.column.page.DictionaryPage;
import org.apache.parquet.column.page.PageReader;
import org.apache.parquet.hadoop.metadata.ColumnChunkMetaData;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;

/**
 * The fast path for NDV of flat fixed-width columns: values are hashed straight from the page bytes
 * instead of one stream read per value. A dictionary-encoded page needs no decoding at all: its
 * distinct values are the dictionary's, hashed once per chunk. Non-null counts come from the footer,
 * so the path is taken only where the footer is trusted.
 */
final class FixedWidthPages {
  private static final Set<Encoding> DATA = Set.of(Encoding.PLAIN, Encoding.PLAIN_DICTIONARY, Encoding.RLE_DICTIONARY);
  private static final Set<Encoding> DICTIONARY = Set.of(Encoding.PLAIN, Encoding.PLAIN_DICTIONARY);

  private FixedWidthPages() {}

  static boolean eligible(ColumnDescriptor column, ColumnChunkMetaData chunk) {
    PrimitiveTypeName type = column.getPrimitiveType().getPrimitiveTypeName();
    boolean fixed = type == PrimitiveTypeName.INT32 || type == PrimitiveTypeName.INT64
        // a NaN in a dictionary would need the indices decoded to be counted
        || (type == PrimitiveTypeName.DOUBLE || type == PrimitiveTypeName.FLOAT) && !chunk.hasDictionaryPage();
    EncodingStats stats = chunk.getEncodingStats();
    return fixed && column.getMaxRepetitionLevel() == 0 && column.getMaxDefinitionLevel() <= 1 && stats != null
        && !stats.usesV2Pages() && DATA.containsAll(stats.getDataEncodings())
        && DICTIONARY.containsAll(stats.getDictionaryEncodings())
        && chunk.getStatistics() != null && !chunk.getStatistics().isEmpty();
  }

  /** Hashes the chunk's values into {@code sketch}; answers the NaN count. */
  static long read(ColumnDescriptor column, PageReader pages, UpdateSketch sketch) throws IOException {
    PrimitiveTypeName type = column.getPrimitiveType().getPrimitiveTypeName();
    int width = type == PrimitiveTypeName.INT64 || type == PrimitiveTypeName.DOUBLE ? 8 : 4;
    DictionaryPage dictionary = pages.readDictionaryPage();
    if (dictionary != null) {
      ByteBuffer b = dictionary.getBytes().toByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
      hash(type, b, dictionary.getDictionarySize(), width, sketch);
    }
    long nan = 0;
    for (DataPage page = pages.readPage(); page != null; page = pages.readPage()) {
      DataPageV1 v1 = (DataPageV1) page;
      if (v1.getValueEncoding() != Encoding.PLAIN) {
        continue; // dictionary indices: their values were hashed with the dictionary
      }
      ByteBuffer b = v1.getBytes().toByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
      if (column.getMaxDefinitionLevel() > 0) {
        if (v1.getDlEncoding() == Encoding.RLE) {
          int length = b.getInt(0);
          b.position(4 + length);
        } else {
          b.position((v1.getValueCount() + 7) / 8); // BIT_PACKED levels of width 1
        }
      }
      nan += hash(type, b.slice().order(ByteOrder.LITTLE_ENDIAN), b.remaining() / width, width, sketch);
    }
    return nan;
  }

  private static long hash(PrimitiveTypeName type, ByteBuffer b, int count, int width, UpdateSketch sketch) {
    long nan = 0;
    for (int i = 0, at = 0; i < count; i++, at += width) {
      switch (type) {
        case INT64 -> sketch.update(b.getLong(at));
        case INT32 -> sketch.update(b.getInt(at));
        case DOUBLE -> {
          double v = b.getDouble(at);
          nan += Double.isNaN(v) ? 1 : 0;
          sketch.update(v);
        }
        default -> {
          float f = b.getFloat(at);
          nan += Float.isNaN(f) ? 1 : 0;
          sketch.update(f);
        }
      }
    }
    return nan;
  }
}
