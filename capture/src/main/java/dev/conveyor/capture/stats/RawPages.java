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
 * The fast path for the decoded statistics of a flat column (NDV, NaN count, average width, non-null
 * count): values are read straight from the page bytes instead of one boxed, copied read per value
 * through parquet's record machinery. PLAIN values are hashed in place. A dictionary-encoded page is
 * read run by run ({@link Hybrid}): an RLE run of one index costs one step, not one per row; the
 * dictionary entries the chunk's rows use are hashed once at the end of the chunk (a writer may store
 * entries no row uses: a category list, say, and those are not values of the column). Counts come from
 * the definition levels, not the footer. Anything this path does not know (V2 pages, other encodings,
 * nesting, fixed-length byte arrays, booleans) takes the general path.
 */
final class RawPages {
  private static final Set<Encoding> DATA = Set.of(Encoding.PLAIN, Encoding.PLAIN_DICTIONARY, Encoding.RLE_DICTIONARY);
  private static final Set<Encoding> DICTIONARY = Set.of(Encoding.PLAIN, Encoding.PLAIN_DICTIONARY);
  private static final Set<PrimitiveTypeName> TYPES = Set.of(PrimitiveTypeName.INT32, PrimitiveTypeName.INT64,
      PrimitiveTypeName.FLOAT, PrimitiveTypeName.DOUBLE, PrimitiveTypeName.BINARY);

  private RawPages() {}

  /** What one chunk held: its values (nulls included), the non-null ones, the NaN among them and their bytes. */
  record ChunkValues(long values, long nonNull, long nan, long widthBytes) {}

  static boolean eligible(ColumnDescriptor column, ColumnChunkMetaData chunk) {
    EncodingStats stats = chunk.getEncodingStats();
    return TYPES.contains(column.getPrimitiveType().getPrimitiveTypeName()) && column.getMaxRepetitionLevel() == 0
        && column.getMaxDefinitionLevel() <= 1 && stats != null && !stats.usesV2Pages()
        && DATA.containsAll(stats.getDataEncodings()) && DICTIONARY.containsAll(stats.getDictionaryEncodings());
  }

  /** Hashes the chunk's distinct values into {@code sketch} and counts what the statistics need. */
  static ChunkValues read(ColumnDescriptor column, PageReader pages, UpdateSketch sketch) throws IOException {
    PrimitiveTypeName type = column.getPrimitiveType().getPrimitiveTypeName();
    IcebergValueHash hash = IcebergValueHash.of(column.getPrimitiveType());
    boolean binary = type == PrimitiveTypeName.BINARY;
    boolean floating = type == PrimitiveTypeName.DOUBLE || type == PrimitiveTypeName.FLOAT;
    int width = type == PrimitiveTypeName.INT64 || type == PrimitiveTypeName.DOUBLE ? 8 : 4;
    Dictionary dictionary = Dictionary.read(pages.readDictionaryPage(), type, width);
    long total = 0;
    long nonNull = 0;
    long nan = 0;
    long bytes = 0;
    for (DataPage page = pages.readPage(); page != null; page = pages.readPage()) {
      if (!(page instanceof DataPageV1 v1)) {
        throw new IOException("column " + column + ": a V2 data page where the footer listed V1 pages only");
      }
      ByteBuffer b = v1.getBytes().toByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
      int present = column.getMaxDefinitionLevel() > 0 ? skipDefinitionLevels(v1, b) : v1.getValueCount();
      total += v1.getValueCount();
      nonNull += present;
      ByteBuffer values = b.slice().order(ByteOrder.LITTLE_ENDIAN);
      Encoding encoding = v1.getValueEncoding();
      if (encoding == Encoding.PLAIN) {
        if (binary) {
          bytes += hashBinaries(values, present, hash, sketch);
        } else {
          if ((long) present * width > values.remaining()) {
            throw new IOException("column " + column + ": a PLAIN page holds fewer than its " + present + " values");
          }
          nan += hashFixed(type, values, present, width, hash, sketch);
          bytes += (long) present * width;
        }
      } else if (encoding.usesDictionary()) {
        if (dictionary == null) {
          throw new IOException("column " + column + ": a dictionary-encoded page without a dictionary page");
        }
        dictionary.countIndices(values, present);
        if (!binary) {
          bytes += (long) present * width;
        }
      } else {
        throw new IOException("column " + column + ": a data page encoded " + encoding
            + " where the footer listed PLAIN and dictionary encodings only");
      }
    }
    if (dictionary != null) {
      dictionary.hashUsed(type, width, hash, sketch);
      long[] totals = dictionary.totals();
      nan += totals[0];
      bytes += totals[1];
    }
    return new ChunkValues(total, nonNull, floating ? nan : 0, bytes);
  }

  /**
   * Moves {@code b} past the page's definition levels (max level 1) and answers how many of its values
   * are present.
   */
  private static int skipDefinitionLevels(DataPageV1 page, ByteBuffer b) throws IOException {
    int count = page.getValueCount();
    if (page.getDlEncoding() == Encoding.RLE) {
      if (b.remaining() < 4) {
        throw new IOException("a data page ends inside its definition levels' length");
      }
      int length = b.getInt(0);
      if (length < 0 || length > b.remaining() - 4) {
        throw new IOException("definition levels of " + length + " bytes overrun their page");
      }
      ByteBuffer levels = b.slice(4, length);
      b.position(4 + length);
      long[] levelCounts = new long[2];
      Hybrid.histogram(levels, 1, count, levelCounts);
      return (int) levelCounts[1];
    }
    if (page.getDlEncoding() != Encoding.BIT_PACKED) {
      throw new IOException("definition levels encoded as " + page.getDlEncoding() + " are not supported here");
    }
    int bytes = (count + 7) / 8; // the deprecated BIT_PACKED levels of width 1, most significant bit first
    if (bytes > b.remaining()) {
      throw new IOException("bit-packed definition levels overrun their page");
    }
    int present = 0;
    for (int i = 0; i < bytes; i++) {
      int levels = b.get(i) & 0xff;
      int inByte = Math.min(8, count - i * 8);
      present += Integer.bitCount(levels >>> (8 - inByte)); // bits past the last level are padding
    }
    b.position(bytes);
    return present;
  }

  /**
   * Hashes fixed-width values into {@code sketch}. Once the sketch is estimating (theta below one), a
   * value whose hash ({@link IcebergValueHash}, {@link ThetaHash}) it would reject is not handed to it: most values of a column
   * with many distinct ones, each spared the library's own hashing and allocation.
   */
  private static long hashFixed(PrimitiveTypeName type, ByteBuffer b, int count, int width, IcebergValueHash hash,
      UpdateSketch sketch) {
    long nan = 0;
    long theta = sketch.getThetaLong();
    for (int i = 0, at = 0; i < count; i++, at += width) {
      switch (type) {
        case INT64 -> {
          long v = b.getLong(at);
          if (theta == Long.MAX_VALUE || hash.hashOfLong(v) < theta) {
            hash.updateLong(sketch, v);
            theta = sketch.getThetaLong();
          }
        }
        case INT32 -> {
          int v = b.getInt(at);
          if (theta == Long.MAX_VALUE || hash.hashOfInt(v) < theta) {
            hash.updateInt(sketch, v);
            theta = sketch.getThetaLong();
          }
        }
        case DOUBLE -> {
          double v = b.getDouble(at);
          nan += Double.isNaN(v) ? 1 : 0;
          if (theta == Long.MAX_VALUE || hash.hashOfDouble(v) < theta) {
            hash.updateDouble(sketch, v);
            theta = sketch.getThetaLong();
          }
        }
        default -> {
          float f = b.getFloat(at);
          nan += Float.isNaN(f) ? 1 : 0;
          if (theta == Long.MAX_VALUE || hash.hashOfFloat(f) < theta) {
            hash.updateFloat(sketch, f);
            theta = sketch.getThetaLong();
          }
        }
      }
    }
    return nan;
  }

  /** Hashes {@code count} PLAIN byte arrays (a 4-byte length, then the bytes) in place; answers their bytes. */
  private static long hashBinaries(ByteBuffer b, int count, IcebergValueHash hash, UpdateSketch sketch)
      throws IOException {
    long bytes = 0;
    int at = 0;
    int end = b.limit();
    for (int i = 0; i < count; i++) {
      if (end - at < 4) {
        throw new IOException("a PLAIN byte array page ends before its " + count + " values");
      }
      int length = b.getInt(at);
      if (length < 0 || length > end - at - 4) {
        throw new IOException("a PLAIN byte array of " + length + " bytes overruns its page");
      }
      hash.updateBytes(sketch, b.slice(at + 4, length));
      bytes += length;
      at += 4 + length;
    }
    return bytes;
  }

  /** A chunk's dictionary page: where each entry is, and which entries the chunk's rows use. */
  private static final class Dictionary {
    private final ByteBuffer bytes;
    private final int size;
    private final int[] offsets; // byte arrays: where each entry's bytes start
    private final int[] lengths;
    private final boolean[] nan;
    private final long[] occurrences;

    private Dictionary(ByteBuffer bytes, int size, int[] offsets, int[] lengths, boolean[] nan) {
      this.bytes = bytes;
      this.size = size;
      this.occurrences = new long[size];
      this.offsets = offsets;
      this.lengths = lengths;
      this.nan = nan;
    }

    static Dictionary read(DictionaryPage page, PrimitiveTypeName type, int width) throws IOException {
      if (page == null) {
        return null;
      }
      ByteBuffer b = page.getBytes().toByteBuffer().slice().order(ByteOrder.LITTLE_ENDIAN);
      int size = page.getDictionarySize();
      int entryBytes = type == PrimitiveTypeName.BINARY ? 4 : width; // an entry takes at least this much
      if (size < 0 || size > b.remaining() / entryBytes) {
        throw new IOException("a dictionary page of " + b.remaining() + " bytes cannot hold its " + size + " entries");
      }
      if (type == PrimitiveTypeName.BINARY) {
        int[] offsets = new int[size];
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
          offsets[i] = at + 4;
          lengths[i] = length;
          at += 4 + length;
        }
        return new Dictionary(b, size, offsets, lengths, null);
      }
      boolean[] nan = null;
      if (type == PrimitiveTypeName.DOUBLE || type == PrimitiveTypeName.FLOAT) {
        nan = new boolean[size];
        for (int i = 0; i < size; i++) {
          nan[i] = type == PrimitiveTypeName.DOUBLE ? Double.isNaN(b.getDouble(i * 8)) : Float.isNaN(b.getFloat(i * 4));
        }
      }
      return new Dictionary(b, size, null, null, nan);
    }

    /** Reads a page's {@code count} indices into the chunk's occurrences of each entry. */
    void countIndices(ByteBuffer values, int count) throws IOException {
      if (count == 0) {
        return;
      }
      if (!values.hasRemaining()) {
        throw new IOException("a dictionary-encoded page without its indices' bit width");
      }
      try {
        Hybrid.histogram(values.slice(1, values.remaining() - 1), values.get(0) & 0xff, count, occurrences);
      } catch (IOException e) {
        throw new IOException("dictionary indices: " + e.getMessage(), e);
      }
    }

    /** {NaN values, bytes of the values} among the rows that referenced the dictionary. */
    long[] totals() {
      long[] out = new long[2];
      for (int i = 0; i < size; i++) {
        long n = occurrences[i];
        if (n == 0) {
          continue;
        }
        if (lengths != null) {
          out[1] += n * lengths[i];
        } else if (nan != null && nan[i]) {
          out[0] += n;
        }
      }
      return out;
    }

    /** Hashes the entries some row of the chunk used, each once. */
    void hashUsed(PrimitiveTypeName type, int width, IcebergValueHash hash, UpdateSketch sketch) {
      for (int i = 0; i < size; i++) {
        if (occurrences[i] == 0) {
          continue;
        }
        if (lengths != null) {
          hash.updateBytes(sketch, bytes.slice(offsets[i], lengths[i]));
        } else {
          hashFixed(type, bytes.slice(i * width, width).order(ByteOrder.LITTLE_ENDIAN), 1, width, hash, sketch);
        }
      }
    }
  }
}
