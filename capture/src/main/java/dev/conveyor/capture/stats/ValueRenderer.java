package dev.conveyor.capture.stats;

import com.google.protobuf.ByteString;
import dev.conveyor.api.catalog.StatValue;
import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.time.Instant;
import java.time.LocalDate;
import java.time.LocalTime;
import java.util.HexFormat;
import java.util.UUID;
import org.apache.parquet.io.api.Binary;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.DecimalLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.IntLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.TimeLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.TimeUnit;
import org.apache.parquet.schema.LogicalTypeAnnotation.TimestampLogicalTypeAnnotation;
import org.apache.parquet.schema.PrimitiveType;

/**
 * Turns a Parquet statistic value into a typed {@link StatValue} whose rendered text is canonical:
 * the same value always renders the same way, whoever captured it.
 */
public final class ValueRenderer {
  private ValueRenderer() {}

  public static String logicalType(PrimitiveType type) {
    LogicalTypeAnnotation a = type.getLogicalTypeAnnotation();
    return a == null ? type.getPrimitiveTypeName().name() : a.toString();
  }

  /** Null when the type has no meaningful order (INT96 legacy timestamps). */
  public static StatValue render(PrimitiveType type, Object value) {
    LogicalTypeAnnotation a = type.getLogicalTypeAnnotation();
    StatValue.Builder b = StatValue.newBuilder().setLogicalType(logicalType(type));
    switch (type.getPrimitiveTypeName()) {
      case BOOLEAN -> {
        boolean v = (Boolean) value;
        return b.setBoolValue(v).setRendered(Boolean.toString(v)).build();
      }
      case INT32 -> {
        int v = (Integer) value;
        if (a instanceof LogicalTypeAnnotation.DateLogicalTypeAnnotation) {
          return b.setIntValue(v).setRendered(LocalDate.ofEpochDay(v).toString()).build();
        }
        if (a instanceof DecimalLogicalTypeAnnotation d) {
          return b.setIntValue(v).setRendered(BigDecimal.valueOf(v, d.getScale()).toPlainString()).build();
        }
        if (a instanceof TimeLogicalTypeAnnotation) {
          return b.setIntValue(v).setRendered(LocalTime.ofNanoOfDay(v * 1_000_000L).toString()).build();
        }
        long widened = a instanceof IntLogicalTypeAnnotation i && !i.isSigned() ? Integer.toUnsignedLong(v) : v;
        return b.setIntValue(widened).setRendered(Long.toString(widened)).build();
      }
      case INT64 -> {
        long v = (Long) value;
        if (a instanceof TimestampLogicalTypeAnnotation ts) {
          Instant at = instant(v, ts.getUnit());
          // a timestamp not adjusted to UTC is a wall-clock reading: no zone may be claimed for it
          String text = ts.isAdjustedToUTC() ? at.toString()
              : java.time.LocalDateTime.ofInstant(at, java.time.ZoneOffset.UTC).toString();
          return b.setIntValue(v).setRendered(text).build();
        }
        if (a instanceof DecimalLogicalTypeAnnotation d) {
          return b.setIntValue(v).setRendered(BigDecimal.valueOf(v, d.getScale()).toPlainString()).build();
        }
        if (a instanceof TimeLogicalTypeAnnotation t) {
          long nanos = t.getUnit() == TimeUnit.MICROS ? v * 1_000L : v;
          return b.setIntValue(v).setRendered(LocalTime.ofNanoOfDay(nanos).toString()).build();
        }
        if (a instanceof IntLogicalTypeAnnotation i && !i.isSigned()) {
          return b.setIntValue(v).setRendered(Long.toUnsignedString(v)).build();
        }
        return b.setIntValue(v).setRendered(Long.toString(v)).build();
      }
      case FLOAT, DOUBLE -> {
        double v = ((Number) value).doubleValue();
        return b.setDoubleValue(v).setRendered(Double.toString(v)).build();
      }
      case BINARY, FIXED_LEN_BYTE_ARRAY -> {
        byte[] bytes = ((Binary) value).getBytes();
        if (a instanceof DecimalLogicalTypeAnnotation d) {
          String text = new BigDecimal(new BigInteger(bytes), d.getScale()).toPlainString();
          return b.setBinaryValue(ByteString.copyFrom(bytes)).setRendered(text).build();
        }
        if (a instanceof LogicalTypeAnnotation.UUIDLogicalTypeAnnotation && bytes.length == 16) {
          ByteBuffer buf = ByteBuffer.wrap(bytes);
          String text = new UUID(buf.getLong(), buf.getLong()).toString();
          return b.setStringValue(text).setRendered(text).build();
        }
        if (a instanceof LogicalTypeAnnotation.StringLogicalTypeAnnotation
            || a instanceof LogicalTypeAnnotation.EnumLogicalTypeAnnotation
            || a instanceof LogicalTypeAnnotation.JsonLogicalTypeAnnotation) {
          String text = ((Binary) value).toStringUsingUTF8();
          return b.setStringValue(text).setRendered(text).build();
        }
        return b.setBinaryValue(ByteString.copyFrom(bytes)).setRendered("0x" + HexFormat.of().formatHex(bytes)).build();
      }
      default -> {
        return null;
      }
    }
  }

  private static Instant instant(long v, TimeUnit unit) {
    return switch (unit) {
      case MILLIS -> Instant.ofEpochMilli(v);
      case MICROS -> Instant.ofEpochSecond(Math.floorDiv(v, 1_000_000L), Math.floorMod(v, 1_000_000L) * 1_000L);
      case NANOS -> Instant.ofEpochSecond(Math.floorDiv(v, 1_000_000_000L), Math.floorMod(v, 1_000_000_000L));
    };
  }
}
