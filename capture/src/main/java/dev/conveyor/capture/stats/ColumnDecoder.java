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
 * NDV as a theta sketch (with its estimate and 2-standard-deviation bounds) and average width.
 */
final class ColumnDecoder {
  /**
   * Theta sketch size: 2,048 entries give a relative standard error of about 2.2 % (the record
   * carries the estimate's bounds) while a serialized sketch stays under 16 KiB, which keeps a
   * 16-file group's result, with a sketch per file and column, cheap to submit and store.
   */
  static final int NDV_NOMINAL_ENTRIES = 2048;

  private ColumnDecoder() {}

  /** Per column: a builder update that adds the decoded statistics. */
  static Map<String, ColumnStats.Builder> decode(ParquetFileReader reader, MessageType schema, List<String> columns,
      String createdBy) throws IOException {
    List<Type> fields = new ArrayList<>();
    for (String c : columns) {
      fields.add(schema.getType(c));
    }
    MessageType projection = new MessageType(schema.getName(), fields);
    reader.setRequestedSchema(projection);
    Map<String, Acc> accs = new HashMap<>();
    for (ColumnDescriptor d : projection.getColumns()) {
      accs.put(d.getPath()[0], new Acc(d));
    }
    PageReadStore rowGroup;
    while ((rowGroup = reader.readNextRowGroup()) != null) {
      ColumnReadStoreImpl store = new ColumnReadStoreImpl(rowGroup,
          new DummyRecordConverter(projection).getRootConverter(), projection, createdBy);
      for (ColumnDescriptor d : projection.getColumns()) {
        accs.get(d.getPath()[0]).read(store.getColumnReader(d));
      }
    }
    Map<String, ColumnStats.Builder> out = new HashMap<>();
    accs.forEach((name, acc) -> out.put(name, acc.toStats()));
    return out;
  }

  private static final class Acc {
    private final ColumnDescriptor column;
    private final UpdateSketch sketch = UpdateSketch.builder().setNominalEntries(NDV_NOMINAL_ENTRIES).build();
    private long nonNull;
    private long nan;
    private long widthBytes;

    Acc(ColumnDescriptor column) {
      this.column = column;
    }

    void read(ColumnReader r) {
      int maxDef = column.getMaxDefinitionLevel();
      long total = r.getTotalValueCount();
      for (long i = 0; i < total; i++) {
        if (r.getCurrentDefinitionLevel() == maxDef) {
          nonNull++;
          switch (column.getPrimitiveType().getPrimitiveTypeName()) {
            case INT32 -> {
              sketch.update(r.getInteger());
              widthBytes += 4;
            }
            case INT64 -> {
              sketch.update(r.getLong());
              widthBytes += 8;
            }
            case FLOAT -> {
              float f = r.getFloat();
              nan += Float.isNaN(f) ? 1 : 0;
              sketch.update(f);
              widthBytes += 4;
            }
            case DOUBLE -> {
              double v = r.getDouble();
              nan += Double.isNaN(v) ? 1 : 0;
              sketch.update(v);
              widthBytes += 8;
            }
            case BOOLEAN -> {
              sketch.update(r.getBoolean() ? 1L : 0L);
              widthBytes += 1;
            }
            default -> {
              byte[] bytes = r.getBinary().getBytes();
              sketch.update(bytes);
              widthBytes += bytes.length;
            }
          }
        }
        r.consume();
      }
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
    return NdvSketch.newBuilder().setEstimate(s.getEstimate()).setLowerBound(s.getLowerBound(2))
        .setUpperBound(s.getUpperBound(2)).setThetaSketch(ByteString.copyFrom(s.toByteArray())).build();
  }
}
