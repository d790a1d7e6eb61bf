package dev.conveyor.capture.stats;

import com.google.protobuf.ByteString;
import dev.conveyor.api.catalog.ColumnStats;
import dev.conveyor.api.catalog.NdvSketch;
import java.io.IOException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.apache.datasketches.theta.CompactSketch;
import org.apache.datasketches.theta.UpdateSketch;
import org.apache.parquet.column.ColumnDescriptor;
import org.apache.parquet.column.ColumnReader;
import org.apache.parquet.column.impl.ColumnReadStoreImpl;
import org.apache.parquet.column.page.PageReadStore;
import org.apache.parquet.example.DummyRecordConverter;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Type;

/**
 * Decodes the values of selected flat columns to compute what footers do not carry: NaN counts,
 * NDV as a theta sketch (with its estimate and 3-standard-deviation bounds, 99.7 %) and average width, and
 * the min, max and null count that a footer without trustworthy statistics cannot give.
 */
final class ColumnDecoder {
  /**
   * Theta sketch size: 4,096 entries (lg k = 12, what Iceberg's Puffin theta blobs use) give a relative
   * standard error of about 1.6 % (the record carries the estimate's bounds); a serialized sketch stays
   * under 32 KiB, and a file group's result too large for one message is staged in chunks.
   */
  static final int NDV_NOMINAL_ENTRIES = 4096;
  /** {@code NdvSketch.value_encoding} of sketches fed by {@link IcebergValueHash}. */
  static final int ICEBERG_VALUE_ENCODING = 1;

  private ColumnDecoder() {}

  /** Per column: a builder update that adds the decoded statistics. */
  static Map<String, Decoded> decode(ParquetFileReader reader, MessageType schema, List<String> columns,
      String createdBy) throws IOException {
    return decode(reader, schema, columns, createdBy, java.util.Set.copyOf(columns));
  }

  /**
   * As above; min and max are tracked only for {@code needOrder} (columns whose footer cannot be
   * trusted), since ordering every value costs more than the rest of the decode.
   */
  static Map<String, Decoded> decode(ParquetFileReader reader, MessageType schema, List<String> columns,
      String createdBy, java.util.Set<String> needOrder) throws IOException {
    return decode(reader, schema, columns, createdBy, needOrder, true);
  }

  /** As above; without {@code rawPages} every chunk takes the general path (tests compare the two). */
  static Map<String, Decoded> decode(ParquetFileReader reader, MessageType schema, List<String> columns,
      String createdBy, java.util.Set<String> needOrder, boolean rawPages) throws IOException {
    List<Type> fields = new ArrayList<>();
    for (String c : columns) {
      fields.add(schema.getType(c));
    }
    MessageType projection = new MessageType(schema.getName(), fields);
    reader.setRequestedSchema(projection);
    Map<String, Acc> accs = new HashMap<>();
    for (ColumnDescriptor d : projection.getColumns()) {
      accs.put(d.getPath()[0], new Acc(d, needOrder.contains(d.getPath()[0])));
    }
    PageReadStore rowGroup;
    int g = 0;
    while ((rowGroup = reader.readNextRowGroup()) != null) {
      org.apache.parquet.hadoop.metadata.BlockMetaData block = reader.getRowGroups().get(g++);
      ColumnReadStoreImpl store = new ColumnReadStoreImpl(rowGroup,
          new DummyRecordConverter(projection).getRootConverter(), projection, createdBy);
      for (ColumnDescriptor d : projection.getColumns()) {
        Acc acc = accs.get(d.getPath()[0]);
        org.apache.parquet.hadoop.metadata.ColumnChunkMetaData chunk = block.getColumns().stream()
            .filter(c -> java.util.Arrays.equals(c.getPath().toArray(), d.getPath())).findFirst().orElse(null);
        if (rawPages && !acc.trackOrder && chunk != null && RawPages.eligible(d, chunk)) {
          acc.addRaw(RawPages.read(d, rowGroup.getPageReader(d), acc.sketch));
        } else {
          acc.read(store.getColumnReader(d));
        }
      }
    }
    Map<String, Decoded> out = new HashMap<>();
    accs.forEach((name, acc) -> out.put(name, acc.toDecoded()));
    return out;
  }

  /** What decoding found for one column: statistics to merge, and the values' own min, max and nulls. */
  record Decoded(ColumnStats.Builder stats, Object min, Object max, long nulls) {}

  private static final class Acc {
    private final ColumnDescriptor column;
    @SuppressWarnings("rawtypes")
    private final org.apache.parquet.schema.PrimitiveComparator comparator;
    private Object min;
    private Object max;
    private long values;
    private final UpdateSketch sketch = UpdateSketch.builder().setNominalEntries(NDV_NOMINAL_ENTRIES).build();
    private final IcebergValueHash hash;
    private long nonNull;
    private long nan;
    private long widthBytes;

    private final boolean trackOrder;

    Acc(ColumnDescriptor column, boolean trackOrder) {
      this.column = column;
      this.trackOrder = trackOrder;
      this.comparator = column.getPrimitiveType().comparator();
      this.hash = IcebergValueHash.of(column.getPrimitiveType());
    }

    /** NaN never becomes a min or max, as in Parquet's own statistics. */
    @SuppressWarnings("unchecked")
    private void order(Object v) {
      if (v instanceof Float f && f.isNaN() || v instanceof Double d && d.isNaN()) {
        return;
      }
      if (min == null || comparator.compare(v, min) < 0) {
        min = v;
      }
      if (max == null || comparator.compare(v, max) > 0) {
        max = v;
      }
    }

    void read(ColumnReader r) {
      if (!trackOrder) {
        readUnordered(r);
        return;
      }
      switch (column.getPrimitiveType().getPrimitiveTypeName()) {
        case INT64, INT32, DOUBLE, FLOAT -> {
          readOrderedFixed(r);
          return;
        }
        default -> { }
      }
      int maxDef = column.getMaxDefinitionLevel();
      long total = r.getTotalValueCount();
      values += total;
      for (long i = 0; i < total; i++) {
        if (r.getCurrentDefinitionLevel() == maxDef) {
          nonNull++;
          order(readOne(r));
        }
        r.consume();
      }
    }

    /** A chunk read by {@link RawPages}. */
    void addRaw(RawPages.ChunkValues read) {
      values += read.values();
      nonNull += read.nonNull();
      widthBytes += read.widthBytes();
      nan += read.nan();
    }

    // min and max of fixed-width values, unboxed; ordered by the column's own comparator (unsigned
    // integers, -0.0 before 0.0), NaN never taking part
    private boolean orderedAny;
    private long lowLong;
    private long highLong;
    private double lowDouble;
    private double highDouble;

    /** The ordering path for fixed-width values: min, max, NDV, NaN and width without boxing. */
    private void readOrderedFixed(ColumnReader r) {
      int maxDef = column.getMaxDefinitionLevel();
      long total = r.getTotalValueCount();
      values += total;
      long before = nonNull;
      var type = column.getPrimitiveType().getPrimitiveTypeName();
      for (long i = 0; i < total; i++, r.consume()) {
        if (r.getCurrentDefinitionLevel() != maxDef) {
          continue;
        }
        nonNull++;
        switch (type) {
          case INT64 -> {
            long v = r.getLong();
            hash.updateLong(sketch, v);
            if (!orderedAny || comparator.compare(v, lowLong) < 0) {
              lowLong = v;
            }
            if (!orderedAny || comparator.compare(v, highLong) > 0) {
              highLong = v;
            }
            orderedAny = true;
          }
          case INT32 -> {
            int v = r.getInteger();
            hash.updateInt(sketch, v);
            if (!orderedAny || comparator.compare(v, (int) lowLong) < 0) {
              lowLong = v;
            }
            if (!orderedAny || comparator.compare(v, (int) highLong) > 0) {
              highLong = v;
            }
            orderedAny = true;
          }
          case DOUBLE -> {
            double v = r.getDouble();
            hash.updateDouble(sketch, v);
            if (Double.isNaN(v)) {
              nan++;
            } else {
              orderDouble(v);
            }
          }
          default -> {
            float v = r.getFloat();
            hash.updateFloat(sketch, v);
            if (Float.isNaN(v)) {
              nan++;
            } else {
              orderDouble(v);
            }
          }
        }
      }
      int width = type == org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64
          || type == org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.DOUBLE ? 8 : 4;
      widthBytes += (nonNull - before) * width;
      if (orderedAny) {
        min = switch (type) {
          case INT64 -> lowLong;
          case INT32 -> (int) lowLong;
          case DOUBLE -> lowDouble;
          default -> (float) lowDouble;
        };
        max = switch (type) {
          case INT64 -> highLong;
          case INT32 -> (int) highLong;
          case DOUBLE -> highDouble;
          default -> (float) highDouble;
        };
      }
    }

    private void orderDouble(double v) {
      if (!orderedAny || Double.compare(v, lowDouble) < 0) {
        lowDouble = v;
      }
      if (!orderedAny || Double.compare(v, highDouble) > 0) {
        highDouble = v;
      }
      orderedAny = true;
    }

    /** The general path without ordering: no boxing for fixed-width values. */
    private void readUnordered(ColumnReader r) {
      int maxDef = column.getMaxDefinitionLevel();
      long total = r.getTotalValueCount();
      values += total;
      long before = nonNull;
      switch (column.getPrimitiveType().getPrimitiveTypeName()) {
        case INT64 -> {
          for (long i = 0; i < total; i++, r.consume()) {
            if (r.getCurrentDefinitionLevel() == maxDef) {
              nonNull++;
              hash.updateLong(sketch, r.getLong());
            }
          }
          widthBytes += (nonNull - before) * 8;
        }
        case INT32 -> {
          for (long i = 0; i < total; i++, r.consume()) {
            if (r.getCurrentDefinitionLevel() == maxDef) {
              nonNull++;
              hash.updateInt(sketch, r.getInteger());
            }
          }
          widthBytes += (nonNull - before) * 4;
        }
        case DOUBLE -> {
          for (long i = 0; i < total; i++, r.consume()) {
            if (r.getCurrentDefinitionLevel() == maxDef) {
              nonNull++;
              double v = r.getDouble();
              nan += Double.isNaN(v) ? 1 : 0;
              hash.updateDouble(sketch, v);
            }
          }
          widthBytes += (nonNull - before) * 8;
        }
        default -> {
          for (long i = 0; i < total; i++, r.consume()) {
            if (r.getCurrentDefinitionLevel() == maxDef) {
              nonNull++;
              readOne(r);
            }
          }
        }
      }
    }

    private Object readOne(ColumnReader r) {
      switch (column.getPrimitiveType().getPrimitiveTypeName()) {
        case INT32 -> {
          int v = r.getInteger();
          hash.updateInt(sketch, v);
          widthBytes += 4;
          return v;
        }
        case INT64 -> {
          long v = r.getLong();
          hash.updateLong(sketch, v);
          widthBytes += 8;
          return v;
        }
        case FLOAT -> {
          float f = r.getFloat();
          nan += Float.isNaN(f) ? 1 : 0;
          hash.updateFloat(sketch, f);
          widthBytes += 4;
          return f;
        }
        case DOUBLE -> {
          double v = r.getDouble();
          nan += Double.isNaN(v) ? 1 : 0;
          hash.updateDouble(sketch, v);
          widthBytes += 8;
          return v;
        }
        case BOOLEAN -> {
          boolean b = r.getBoolean();
          hash.updateBoolean(sketch, b);
          widthBytes += 1;
          return b;
        }
        default -> {
          org.apache.parquet.io.api.Binary binary = r.getBinary().copy();
          byte[] bytes = binary.getBytes();
          hash.updateBytes(sketch, java.nio.ByteBuffer.wrap(bytes));
          widthBytes += bytes.length;
          return binary;
        }
      }
    }

    Decoded toDecoded() {
      return new Decoded(toStats(), min, max, values - nonNull);
    }

    ColumnStats.Builder toStats() {
      CompactSketch compact = sketch.compact();
      ColumnStats.Builder b = ColumnStats.newBuilder().setNdv(ndv(compact))
          .setAvgWidth(nonNull == 0 ? 0 : (double) widthBytes / nonNull);
      var type = column.getPrimitiveType().getPrimitiveTypeName();
      if (type == org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.FLOAT
          || type == org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.DOUBLE) {
        b.setNanCount(nan);
      }
      return b;
    }
  }

  static NdvSketch ndv(CompactSketch s) {
    return NdvSketch.newBuilder().setEstimate(s.getEstimate()).setLowerBound(s.getLowerBound(3))
        .setUpperBound(s.getUpperBound(3)).setThetaSketch(ByteString.copyFrom(s.toByteArray()))
        .setValueEncoding(ICEBERG_VALUE_ENCODING).build();
  }
}
