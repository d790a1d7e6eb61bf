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
 * The fast path for the decoded statistics of a flat column (NDV, NaN count, average width): values are
 * hashed straight from the page bytes instead of one boxed, copied read per value through parquet's
 * record machinery. A dictionary-encoded page needs almost nothing: its distinct values are the
 * dictionary's, hashed once per chunk; its indices are decoded only where a value's width (strings)
 * or a NaN in the dictionary must be counted per row. Non-null counts come from the footer, so the
 * path is taken only where the footer is trusted; anything it does not know (V2 pages, other
 * encodings, nesting) takes the general path.
 */
final class RawPages {
  private static final Set<Encoding> DATA = Set.of(Encoding.PLAIN, Encoding.PLAIN_DICTIONARY, Encoding.RLE_DICTIONARY);
  private static final Set<Encoding> DICTIONARY = Set.of(Encoding.PLAIN, Encoding.PLAIN_DICTIONARY);
  private static final Set<PrimitiveTypeName> TYPES = Set.of(PrimitiveTypeName.INT32, PrimitiveTypeName.INT64,
      PrimitiveTypeName.FLOAT, PrimitiveTypeName.DOUBLE, PrimitiveTypeName.BINARY);

  private RawPages() {}

  /** What one chunk added: NaN values and the bytes of its non-null values. */
  record ChunkValues(long nan, long widthBytes) {}

  static boolean eligible(ColumnDescriptor column, ColumnChunkMetaData chunk) {
    EncodingStats stats = chunk.getEncodingStats();
    return TYPES.contains(column.getPrimitiveType().getPrimitiveTypeName()) && column.getMaxRepetitionLevel() == 0
        && column.getMaxDefinitionLevel() <= 1 && stats != null && !stats.usesV2Pages()
        && DATA.containsAll(stats.getDataEncodings()) && DICTIONARY.containsAll(stats.getDictionaryEncodings())
        && chunk.getStatistics() != null && !chunk.getStatistics().isEmpty();
  }

  /** Hashes the chunk's distinct values into {@code sketch}; {@code present} is its non-null count (footer). */
  static ChunkValues read(ColumnDescriptor column, PageReader pages, UpdateSketch sketch, long present)
      throws IOException {
    PrimitiveTypeName type = column.getPrimitiveType().getPrimitiveTypeName();
    boolean binary = type == PrimitiveTypeName.BINARY;
    boolean floating = type == PrimitiveTypeName.DOUBLE || type == PrimitiveTypeName.FLOAT;
    int width = type == PrimitiveTypeName.INT64 || type == PrimitiveTypeName.DOUBLE ? 8 : 4;
    Dictionary dictionary = Dictionary.read(pages.readDictionaryPage(), type, width, sketch);
    long nan = 0;
    long plainBinaryBytes = 0;
    long indexedBinaryBytes = 0;
    for (DataPage page = pages.readPage(); page != null; page = pages.readPage()) {
      DataPageV1 v1 = (DataPageV1) page;
      ByteBuffer b = v1.getBytes().toByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
      int nonNull = v1.getValueCount();
      if (column.getMaxDefinitionLevel() > 0) {
        nonNull = skipDefinitionLevels(v1, b);
      }
      ByteBuffer values = b.slice().order(ByteOrder.LITTLE_ENDIAN);
      if (v1.getValueEncoding() == Encoding.PLAIN) {
        if (binary) {
          plainBinaryBytes += hashBinaries(values, sketch);
        } else {
          nan += hashFixed(type, values, values.remaining() / width, width, sketch);
        }
      } else if (dictionary == null) {
        throw new IOException("column " + column + ": a dictionary-encoded page without a dictionary page");
      } else if (binary || dictionary.hasNan()) {
        long[] counted = dictionary.countIndices(values, nonNull);
        nan += counted[0];
        indexedBinaryBytes += counted[1];
      }
      // a dictionary-encoded page otherwise adds nothing: its values were hashed with the dictionary
    }
    long widthBytes = binary ? plainBinaryBytes + indexedBinaryBytes : present * width;
    return new ChunkValues(floating ? nan : 0, widthBytes);
  }

  /**
   * Moves {@code b} past the page's definition levels (max level 1) and answers how many of its values
   * are present.
   */
  private static int skipDefinitionLevels(DataPageV1 page, ByteBuffer b) throws IOException {
    int count = page.getValueCount();
    if (page.getDlEncoding() == Encoding.RLE) {
      int length = b.getInt(0);
      ByteBuffer levels = b.slice(4, length);
      b.position(4 + length);
      long[] ones = new long[2];
      Hybrid.scan(levels, 1, count, (value, run) -> ones[0] += value == 1 ? run : 0);
      return (int) ones[0];
    }
    if (page.getDlEncoding() != Encoding.BIT_PACKED) {
      throw new IOException("definition levels encoded as " + page.getDlEncoding() + " are not supported here");
    }
    int bytes = (count + 7) / 8; // BIT_PACKED levels of width 1; the padding bits are zero
    int present = 0;
    for (int i = 0; i < bytes; i++) {
      present += Integer.bitCount(b.get(i) & 0xff);
    }
    b.position(bytes);
    return present;
  }

  private static long hashFixed(PrimitiveTypeName type, ByteBuffer b, int count, int width, UpdateSketch sketch) {
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

  /** Hashes PLAIN byte arrays (a 4-byte length, then the bytes) without copying; answers their bytes. */
  private static long hashBinaries(ByteBuffer b, UpdateSketch sketch) throws IOException {
    long bytes = 0;
    int at = 0;
    int end = b.limit();
    while (at < end) {
      if (end - at < 4) {
        throw new IOException("a PLAIN byte array page ends inside a length");
      }
      int length = b.getInt(at);
      if (length < 0 || length > end - at - 4) {
        throw new IOException("a PLAIN byte array of " + length + " bytes overruns its page");
      }
      sketch.update(b.slice(at + 4, length)); // hashes as update(byte[]) of the same bytes would
      bytes += length;
      at += 4 + length;
    }
    return bytes;
  }

  /** A chunk's dictionary, hashed once; kept only as what per-row counting needs. */
  private record Dictionary(int[] lengths, boolean[] nan, boolean hasNan) {
    static Dictionary read(DictionaryPage page, PrimitiveTypeName type, int width, UpdateSketch sketch)
        throws IOException {
      if (page == null) {
        return null;
      }
      ByteBuffer b = page.getBytes().toByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
      int size = page.getDictionarySize();
      if (type == PrimitiveTypeName.BINARY) {
        int[] lengths = new int[size];
        int at = 0;
        for (int i = 0; i < size; i++) {
          if (b.limit() - at < 4) {
            throw new IOException("the dictionary page ends before its " + size + " entries");
          }
          int length = b.getInt(at);
          if (length < 0 || length > b.limit() - at - 4) {
            throw new IOException("a dictionary entry of " + length + " bytes overruns its page");
          }
          sketch.update(b.slice(at + 4, length));
          lengths[i] = length;
          at += 4 + length;
        }
        return new Dictionary(lengths, null, false);
      }
      if ((long) size * width > b.remaining()) {
        throw new IOException("the dictionary page holds fewer than its " + size + " entries");
      }
      hashFixed(type, b, size, width, sketch);
      boolean[] nan = null;
      boolean any = false;
      if (type == PrimitiveTypeName.DOUBLE || type == PrimitiveTypeName.FLOAT) {
        nan = new boolean[size];
        for (int i = 0; i < size; i++) {
          nan[i] = type == PrimitiveTypeName.DOUBLE ? Double.isNaN(b.getDouble(i * 8)) : Float.isNaN(b.getFloat(i * 4));
          any |= nan[i];
        }
      }
      return new Dictionary(null, nan, any);
    }

    /** Decodes a page's {@code count} indices: {NaN values, bytes of the values}. */
    long[] countIndices(ByteBuffer values, int count) throws IOException {
      if (count == 0) {
        return new long[2];
      }
      int bitWidth = values.get(0) & 0xff;
      int size = lengths != null ? lengths.length : nan.length;
      long[] out = new long[2];
      Hybrid.scan(values.slice(1, values.remaining() - 1), bitWidth, count, (index, run) -> {
        if (index < 0 || index >= size) {
          throw new IOException("dictionary index " + index + " outside a dictionary of " + size);
        }
        if (lengths != null) {
          out[1] += (long) lengths[index] * run;
        } else if (nan[index]) {
          out[0] += run;
        }
      });
      return out;
    }
  }
}
