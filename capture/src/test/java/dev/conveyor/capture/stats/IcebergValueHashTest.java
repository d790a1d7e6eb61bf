package dev.conveyor.capture.stats;

import static org.assertj.core.api.Assertions.assertThat;

import java.math.BigDecimal;
import java.math.BigInteger;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.Random;
import org.apache.datasketches.hash.MurmurHash3;
import org.apache.datasketches.theta.UpdateSketch;
import org.apache.iceberg.types.Conversions;
import org.apache.iceberg.types.Type;
import org.apache.iceberg.types.Types;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName;
import org.apache.parquet.schema.Types.PrimitiveBuilder;
import org.junit.jupiter.api.Test;

/**
 * Each Parquet column's values reach the sketch as the bytes Iceberg's own {@code Conversions.toByteBuffer}
 * gives the Iceberg value (what an engine feeds its Puffin sketches), so the two sketches are the same
 * sketch; and the prefilter's hash of those bytes is the library's.
 */
class IcebergValueHashTest {
  private static final Random RANDOM = new Random(19);

  @Test
  void intsDatesAndSmallIntegersAreFourBytes() {
    List<Integer> values = List.of(0, 1, -1, Integer.MIN_VALUE, Integer.MAX_VALUE, 19_000, RANDOM.nextInt());
    same(type(PrimitiveTypeName.INT32, null), Types.IntegerType.get(), values, (h, s) -> (v) -> h.updateInt(s, v));
    same(type(PrimitiveTypeName.INT32, LogicalTypeAnnotation.dateType()), Types.DateType.get(), values,
        (h, s) -> (v) -> h.updateInt(s, v));
    same(type(PrimitiveTypeName.INT32, LogicalTypeAnnotation.intType(16, true)), Types.IntegerType.get(),
        List.of(-3, 7, 32_000), (h, s) -> (v) -> h.updateInt(s, v));
  }

  @Test
  void longsTimestampsAndMillisecondsAsMicros() {
    List<Long> values = List.of(0L, 1L, -1L, Long.MIN_VALUE, Long.MAX_VALUE, 1_709_251_200_000_000L);
    same(type(PrimitiveTypeName.INT64, null), Types.LongType.get(), values, (h, s) -> (v) -> h.updateLong(s, v));
    same(type(PrimitiveTypeName.INT64, LogicalTypeAnnotation.timestampType(false, LogicalTypeAnnotation.TimeUnit.MICROS)),
        Types.TimestampType.withoutZone(), values, (h, s) -> (v) -> h.updateLong(s, v));
    UpdateSketch ours = sketch();
    UpdateSketch iceberg = sketch();
    IcebergValueHash millis = IcebergValueHash.of(
        type(PrimitiveTypeName.INT64, LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.MILLIS)));
    for (long ms : List.of(0L, 1_709_251_200_123L, -5L)) {
      millis.updateLong(ours, ms);
      iceberg.update(bytes(Types.TimestampType.withZone(), ms * 1000));
    }
    assertThat(ours.compact().toByteArray()).isEqualTo(iceberg.compact().toByteArray());
  }

  @Test
  void floatsAndDoublesAreTheirRawIeeeBytes() {
    same(type(PrimitiveTypeName.FLOAT, null), Types.FloatType.get(),
        List.of(0.0f, -0.0f, 1.5f, Float.NaN, Float.MAX_VALUE, -7.25f), (h, s) -> (v) -> h.updateFloat(s, v));
    same(type(PrimitiveTypeName.DOUBLE, null), Types.DoubleType.get(),
        List.of(0.0, -0.0, 2.5, Double.NaN, Double.MIN_VALUE, -1e300), (h, s) -> (v) -> h.updateDouble(s, v));
  }

  @Test
  void booleansAreOneByte() {
    same(type(PrimitiveTypeName.BOOLEAN, null), Types.BooleanType.get(), List.of(true, false),
        (h, s) -> (v) -> h.updateBoolean(s, v));
  }

  @Test
  void decimalsAreTheMinimalUnscaledBytesWhateverTheirPhysicalType() {
    LogicalTypeAnnotation decimal = LogicalTypeAnnotation.decimalType(2, 9);
    List<BigDecimal> values = List.of(new BigDecimal("0.00"), new BigDecimal("1.27"), new BigDecimal("1.28"),
        new BigDecimal("-1.28"), new BigDecimal("-1.29"), new BigDecimal("9999999.99"));
    Type icebergType = Types.DecimalType.of(9, 2);
    UpdateSketch expected = sketch();
    values.forEach(v -> expected.update(bytes(icebergType, v)));
    byte[] want = expected.compact().toByteArray();

    UpdateSketch asInt = sketch();
    IcebergValueHash int32 = IcebergValueHash.of(type(PrimitiveTypeName.INT32, decimal));
    values.forEach(v -> int32.updateInt(asInt, v.unscaledValue().intValueExact()));
    assertThat(asInt.compact().toByteArray()).as("INT32 decimal").isEqualTo(want);

    UpdateSketch asLong = sketch();
    IcebergValueHash int64 = IcebergValueHash.of(type(PrimitiveTypeName.INT64, LogicalTypeAnnotation.decimalType(2, 18)));
    values.forEach(v -> int64.updateLong(asLong, v.unscaledValue().longValueExact()));
    assertThat(asLong.compact().toByteArray()).as("INT64 decimal").isEqualTo(want);

    UpdateSketch asFixed = sketch();
    PrimitiveType fixedType = org.apache.parquet.schema.Types.required(PrimitiveTypeName.FIXED_LEN_BYTE_ARRAY)
        .length(8).as(decimal).named("d");
    IcebergValueHash fixed = IcebergValueHash.of(fixedType);
    // a fixed-width decimal is sign-padded to its width; Iceberg hashes the minimal bytes
    values.forEach(v -> fixed.updateBytes(asFixed, ByteBuffer.wrap(signPadded(v.unscaledValue(), 8))));
    assertThat(asFixed.compact().toByteArray()).as("fixed decimal").isEqualTo(want);
  }

  @Test
  void stringsAndBinaryAreTheirBytes() {
    PrimitiveType string = type(PrimitiveTypeName.BINARY, LogicalTypeAnnotation.stringType());
    IcebergValueHash hash = IcebergValueHash.of(string);
    UpdateSketch ours = sketch();
    UpdateSketch iceberg = sketch();
    for (String s : List.of("a", "naïve", "日本", "x".repeat(100))) {
      hash.updateBytes(ours, ByteBuffer.wrap(s.getBytes(StandardCharsets.UTF_8)));
      iceberg.update(bytes(Types.StringType.get(), s));
    }
    assertThat(ours.compact().toByteArray()).isEqualTo(iceberg.compact().toByteArray());
  }

  @Test
  void thePrefilterHashIsTheLibrarysForFourAndEightBytes() {
    for (int i = 0; i < 100_000; i++) {
      int v = i < 3 ? new int[] {0, -1, Integer.MIN_VALUE}[i] : RANDOM.nextInt();
      byte[] four = ByteBuffer.allocate(4).order(ByteOrder.LITTLE_ENDIAN).putInt(v).array();
      assertThat(ThetaHash.ofLittleEndian(v & 0xFFFF_FFFFL, 4)).isEqualTo(MurmurHash3.hash(four, 9001L)[0] >>> 1);
      long l = RANDOM.nextLong();
      byte[] eight = ByteBuffer.allocate(8).order(ByteOrder.LITTLE_ENDIAN).putLong(l).array();
      assertThat(ThetaHash.ofLittleEndian(l, 8)).isEqualTo(MurmurHash3.hash(eight, 9001L)[0] >>> 1);
    }
    IcebergValueHash ints = IcebergValueHash.of(type(PrimitiveTypeName.INT32, null));
    IcebergValueHash floats = IcebergValueHash.of(type(PrimitiveTypeName.FLOAT, null));
    IcebergValueHash doubles = IcebergValueHash.of(type(PrimitiveTypeName.DOUBLE, null));
    assertThat(ints.hashOfInt(42)).isEqualTo(MurmurHash3.hash(bytes(Types.IntegerType.get(), 42), 9001L)[0] >>> 1);
    assertThat(floats.hashOfFloat(-0.0f)).isEqualTo(MurmurHash3.hash(bytes(Types.FloatType.get(), -0.0f), 9001L)[0] >>> 1);
    assertThat(doubles.hashOfDouble(Double.NaN))
        .isEqualTo(MurmurHash3.hash(bytes(Types.DoubleType.get(), Double.NaN), 9001L)[0] >>> 1);
  }

  private interface Feeder<T> {
    void accept(T value);
  }

  private static <T> void same(PrimitiveType parquet, Type iceberg, List<T> values,
      java.util.function.BiFunction<IcebergValueHash, UpdateSketch, Feeder<T>> ours) {
    UpdateSketch a = sketch();
    UpdateSketch b = sketch();
    Feeder<T> feed = ours.apply(IcebergValueHash.of(parquet), a);
    for (T v : values) {
      feed.accept(v);
      b.update(bytes(iceberg, v));
    }
    assertThat(a.getRetainedEntries(true)).as(parquet + " distinct values").isEqualTo(values.size());
    assertThat(a.compact().toByteArray()).as(parquet.toString()).isEqualTo(b.compact().toByteArray());
  }

  private static byte[] bytes(Type type, Object value) {
    ByteBuffer b = Conversions.toByteBuffer(type, value);
    byte[] out = new byte[b.remaining()];
    b.duplicate().get(out);
    return out;
  }

  private static byte[] signPadded(BigInteger unscaled, int width) {
    byte[] minimal = unscaled.toByteArray();
    byte[] out = new byte[width];
    java.util.Arrays.fill(out, 0, width - minimal.length, (byte) (unscaled.signum() < 0 ? 0xff : 0));
    System.arraycopy(minimal, 0, out, width - minimal.length, minimal.length);
    return out;
  }

  private static PrimitiveType type(PrimitiveTypeName name, LogicalTypeAnnotation logical) {
    PrimitiveBuilder<PrimitiveType> b = org.apache.parquet.schema.Types.required(name);
    return (logical == null ? b : b.as(logical)).named("c");
  }

  private static UpdateSketch sketch() {
    return UpdateSketch.builder().setNominalEntries(ColumnDecoder.NDV_NOMINAL_ENTRIES).build();
  }
}
