package dev.conveyor.capture.stats;

import java.math.BigInteger;
import java.nio.ByteBuffer;
import org.apache.datasketches.theta.UpdateSketch;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.DecimalLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.IntLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.TimeLogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.TimestampLogicalTypeAnnotation;
import org.apache.parquet.schema.PrimitiveType;

/**
 * How a column's values enter its NDV sketch: as the bytes of Iceberg's single-value serialization of the
 * value (the Iceberg spec's appendix D), which is what the Puffin {@code apache-datasketches-theta-v1} blob
 * requires, so an engine can union Conveyor's sketches with its own. The library's typed updates would
 * widen small values first (an int hashed as 8 bytes, a boolean as a long), giving sketches no engine can
 * merge. Per form: int, date and the small integers are 4 little-endian bytes; long, timestamp and time are
 * 8, in microseconds (millisecond columns are scaled, INT96 converted); float 4 and double 8 raw IEEE
 * bytes; boolean one byte; decimal the unscaled value's minimal two's-complement big-endian bytes; strings,
 * binary, fixed and UUID their own bytes.
 */
final class IcebergValueHash {
  /** What an Iceberg value of the column is, as far as its serialization goes. */
  enum Form { INT, UNSIGNED_INT_AS_LONG, LONG, MILLIS_AS_MICROS, FLOAT, DOUBLE, BOOLEAN, DECIMAL, INT96_AS_MICROS, BYTES }

  private static final byte[] FALSE = {0};
  private static final byte[] TRUE = {1};
  private static final long JULIAN_DAY_OF_EPOCH = 2_440_588L;
  private static final long MICROS_PER_DAY = 86_400_000_000L;

  private final Form form;
  private final byte[] four = new byte[4]; // reused: the sketch hashes the bytes before update returns

  private IcebergValueHash(Form form) {
    this.form = form;
  }

  static IcebergValueHash of(PrimitiveType type) {
    return new IcebergValueHash(formOf(type));
  }

  Form form() {
    return form;
  }

  static Form formOf(PrimitiveType type) {
    LogicalTypeAnnotation logical = type.getLogicalTypeAnnotation();
    if (logical instanceof DecimalLogicalTypeAnnotation) {
      return Form.DECIMAL;
    }
    return switch (type.getPrimitiveTypeName()) {
      case BOOLEAN -> Form.BOOLEAN;
      case INT32 -> {
        if (logical instanceof IntLogicalTypeAnnotation i && !i.isSigned() && i.getBitWidth() == 32) {
          yield Form.UNSIGNED_INT_AS_LONG;
        }
        if (logical instanceof TimeLogicalTypeAnnotation) {
          yield Form.MILLIS_AS_MICROS; // TIME(MILLIS) is the only time an INT32 holds
        }
        yield Form.INT;
      }
      case INT64 -> {
        if (logical instanceof TimestampLogicalTypeAnnotation t && t.getUnit() == LogicalTypeAnnotation.TimeUnit.MILLIS) {
          yield Form.MILLIS_AS_MICROS;
        }
        yield Form.LONG;
      }
      case FLOAT -> Form.FLOAT;
      case DOUBLE -> Form.DOUBLE;
      case INT96 -> Form.INT96_AS_MICROS;
      default -> Form.BYTES;
    };
  }

  /**
   * The sketch hash the value will get ({@link ThetaHash}), for skipping what the sketch would reject;
   * 0 (never skipped) for a form whose hash is not cheap to know up front.
   */
  long hashOfInt(int v) {
    return switch (form) {
      case INT -> ThetaHash.ofLittleEndian(v & 0xFFFF_FFFFL, 4);
      case UNSIGNED_INT_AS_LONG -> ThetaHash.ofLittleEndian(Integer.toUnsignedLong(v), 8);
      case MILLIS_AS_MICROS -> ThetaHash.ofLittleEndian(v * 1000L, 8);
      default -> 0;
    };
  }

  void updateInt(UpdateSketch sketch, int v) {
    switch (form) {
      case INT -> sketch.update(littleEndian(v));
      case UNSIGNED_INT_AS_LONG -> sketch.update(Integer.toUnsignedLong(v));
      case MILLIS_AS_MICROS -> sketch.update(v * 1000L);
      case DECIMAL -> sketch.update(BigInteger.valueOf(v).toByteArray());
      default -> sketch.update(littleEndian(v));
    }
  }

  long hashOfLong(long v) {
    return switch (form) {
      case LONG -> ThetaHash.ofLittleEndian(v, 8);
      case MILLIS_AS_MICROS -> ThetaHash.ofLittleEndian(v * 1000L, 8);
      default -> 0;
    };
  }

  void updateLong(UpdateSketch sketch, long v) {
    switch (form) {
      case MILLIS_AS_MICROS -> sketch.update(v * 1000L); // update(long) hashes its 8 little-endian bytes
      case DECIMAL -> sketch.update(BigInteger.valueOf(v).toByteArray());
      default -> sketch.update(v);
    }
  }

  long hashOfFloat(float v) {
    return ThetaHash.ofLittleEndian(Float.floatToRawIntBits(v) & 0xFFFF_FFFFL, 4);
  }

  void updateFloat(UpdateSketch sketch, float v) {
    sketch.update(littleEndian(Float.floatToRawIntBits(v)));
  }

  long hashOfDouble(double v) {
    return ThetaHash.ofLittleEndian(Double.doubleToRawLongBits(v), 8);
  }

  void updateDouble(UpdateSketch sketch, double v) {
    sketch.update(Double.doubleToRawLongBits(v)); // raw bits, as Iceberg writes them: -0.0 is not 0.0
  }

  void updateBoolean(UpdateSketch sketch, boolean v) {
    sketch.update(v ? TRUE : FALSE);
  }

  /** A byte-array value (its bytes as stored: BINARY, FIXED_LEN_BYTE_ARRAY or INT96). */
  void updateBytes(UpdateSketch sketch, ByteBuffer bytes) {
    switch (form) {
      case DECIMAL -> {
        byte[] b = new byte[bytes.remaining()];
        bytes.duplicate().get(b);
        if (b.length > 0) {
          sketch.update(new BigInteger(b).toByteArray()); // minimal: a fixed-width value's sign padding goes
        }
      }
      case INT96_AS_MICROS -> {
        ByteBuffer le = bytes.duplicate().order(java.nio.ByteOrder.LITTLE_ENDIAN);
        long nanosOfDay = le.getLong(le.position());
        long julianDay = le.getInt(le.position() + 8) & 0xFFFF_FFFFL;
        sketch.update((julianDay - JULIAN_DAY_OF_EPOCH) * MICROS_PER_DAY + Math.floorDiv(nanosOfDay, 1000L));
      }
      default -> sketch.update(bytes); // hashes as update(byte[]) of the same bytes would
    }
  }

  private byte[] littleEndian(int v) {
    four[0] = (byte) v;
    four[1] = (byte) (v >>> 8);
    four[2] = (byte) (v >>> 16);
    four[3] = (byte) (v >>> 24);
    return four;
  }
}
