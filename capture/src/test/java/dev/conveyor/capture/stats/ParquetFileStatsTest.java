package dev.conveyor.capture.stats;

import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BOOLEAN;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.DOUBLE;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT32;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.catalog.ColumnStats;
import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.api.reconcile.ColumnList;
import dev.conveyor.api.reconcile.ColumnSelection;
import java.io.IOException;
import java.math.BigDecimal;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.time.LocalDate;
import java.util.Arrays;
import java.util.Map;
import java.util.Random;
import java.util.function.Function;
import java.util.stream.Collectors;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

public class ParquetFileStatsTest {
  @TempDir Path dir;

  static final MessageType SCHEMA = Types.buildMessage()
      .required(INT64).named("id")
      .optional(BINARY).as(LogicalTypeAnnotation.stringType()).named("name")
      .optional(INT64).as(LogicalTypeAnnotation.decimalType(2, 12)).named("amount")
      .optional(INT64).as(LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.MICROS)).named("ts")
      .optional(DOUBLE).named("score")
      .optional(BOOLEAN).named("flag")
      .optional(INT32).as(LogicalTypeAnnotation.dateType()).named("day")
      .optionalGroup().optional(INT32).named("x").named("nested")
      .named("t");

  /** The Iceberg schema of the files {@link #write} makes (field ids 1 to 7, in column order). */
  public static final org.apache.iceberg.Schema ICEBERG_SCHEMA = new org.apache.iceberg.Schema(
      org.apache.iceberg.types.Types.NestedField.required(1, "id", org.apache.iceberg.types.Types.LongType.get()),
      org.apache.iceberg.types.Types.NestedField.optional(2, "name", org.apache.iceberg.types.Types.StringType.get()),
      org.apache.iceberg.types.Types.NestedField.optional(3, "amount", org.apache.iceberg.types.Types.DecimalType.of(12, 2)),
      org.apache.iceberg.types.Types.NestedField.optional(4, "ts", org.apache.iceberg.types.Types.TimestampType.withZone()),
      org.apache.iceberg.types.Types.NestedField.optional(5, "score", org.apache.iceberg.types.Types.DoubleType.get()),
      org.apache.iceberg.types.Types.NestedField.optional(6, "flag", org.apache.iceberg.types.Types.BooleanType.get()),
      org.apache.iceberg.types.Types.NestedField.optional(7, "day", org.apache.iceberg.types.Types.DateType.get()));

  /** Expected statistics, computed from the rows as they are written. */
  public static final class Expected {
    public long rows;
    public final Map<String, long[]> nulls = new java.util.HashMap<>();
    public final Map<String, String[]> minMax = new java.util.HashMap<>();
    public final Map<String, java.util.Set<Object>> distinct = new java.util.HashMap<>();
    public final Map<String, long[]> widths = new java.util.HashMap<>();
    final Map<String, Object[]> raw = new java.util.HashMap<>();

    @SuppressWarnings("unchecked")
    <T extends Comparable<T>> void see(String column, T value, Function<T, String> render) {
      nulls.computeIfAbsent(column, k -> new long[1]);
      if (value == null) {
        nulls.get(column)[0]++;
        return;
      }
      distinct.computeIfAbsent(column, k -> new java.util.HashSet<>()).add(value);
      widths.computeIfAbsent(column, k -> new long[1])[0] += value instanceof String str
          ? str.getBytes(StandardCharsets.UTF_8).length : value instanceof Integer ? 4 : value instanceof Boolean ? 1 : 8;
      Object[] mm = raw.computeIfAbsent(column, k -> new Object[2]);
      if (mm[0] == null || value.compareTo((T) mm[0]) < 0) {
        mm[0] = value;
        minMax.computeIfAbsent(column, k -> new String[2])[0] = render.apply(value);
      }
      if (mm[1] == null || value.compareTo((T) mm[1]) > 0) {
        mm[1] = value;
        minMax.computeIfAbsent(column, k -> new String[2])[1] = render.apply(value);
      }
    }
  }

  public static Expected write(Path file, int rows, long seed) throws IOException {
    return write(file, rows, seed, true);
  }

  /** With {@code footerStatistics} false the writer records no statistics at all (nor a column index). */
  public static Expected write(Path file, int rows, long seed, boolean footerStatistics) throws IOException {
    Expected e = new Expected();
    Random r = new Random(seed);
    SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
    try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file)).withType(SCHEMA)
        .withRowGroupSize(16 * 1024L).withPageSize(2048).withStatisticsEnabled(footerStatistics).build()) {
      for (int i = 0; i < rows; i++) {
        Group g = groups.newGroup();
        long id = seed * 100_000 + i;
        g.append("id", id);
        e.see("id", id, v -> Long.toString(v));
        String name = r.nextInt(5) == 0 ? null : "name-" + (char) ('a' + r.nextInt(26)) + r.nextInt(1000);
        if (name != null) {
          g.append("name", name);
        }
        e.see("name", name, v -> v);
        Long amount = r.nextInt(7) == 0 ? null : (long) (r.nextInt(2_000_000) - 1_000_000);
        if (amount != null) {
          g.append("amount", amount);
        }
        e.see("amount", amount, v -> BigDecimal.valueOf(v, 2).toPlainString());
        Long ts = r.nextInt(6) == 0 ? null : 1_700_000_000_000_000L + r.nextInt(1_000_000) * 1_000_003L;
        if (ts != null) {
          g.append("ts", ts);
        }
        e.see("ts", ts, v -> Instant.ofEpochSecond(v / 1_000_000, (v % 1_000_000) * 1000).toString());
        Double score = r.nextInt(8) == 0 ? null : r.nextGaussian() * 100;
        if (score != null) {
          g.append("score", score);
        }
        e.see("score", score, v -> Double.toString(v));
        Boolean flag = r.nextInt(9) == 0 ? null : r.nextBoolean();
        if (flag != null) {
          g.append("flag", flag);
        }
        e.see("flag", flag, v -> Boolean.toString(v));
        Integer day = r.nextInt(10) == 0 ? null : 19_000 + r.nextInt(1000);
        if (day != null) {
          g.append("day", day);
        }
        e.see("day", day, v -> LocalDate.ofEpochDay(v).toString());
        g.addGroup("nested").append("x", i);
        w.write(g);
        e.rows++;
      }
    }
    return e;
  }

  @Test
  void footerStatisticsEqualStatisticsComputedFromTheRows() throws Exception {
    Path file = dir.resolve("part-0.parquet");
    Expected expected = write(file, 3_000, 7);
    TargetStatsRecord rec = ParquetFileStats.capture(file, "t1", "s1",
        ColumnSelection.newBuilder().setAll(true).build());

    assertThat(rec.getRowCount()).isEqualTo(3_000);
    assertThat(rec.getSizeBytes()).isEqualTo(Files.size(file));
    assertThat(rec.getTarget().getFile().getPath()).isEqualTo(file.toString());
    assertThat(rec.getSkippedColumnsList()).singleElement().asString().startsWith("nested.x");
    Map<String, ColumnStats> cols = rec.getColumnsList().stream()
        .collect(Collectors.toMap(ColumnStats::getColumn, Function.identity()));
    assertThat(cols.keySet()).containsExactlyInAnyOrder("id", "name", "amount", "ts", "score", "flag", "day");
    for (String c : cols.keySet()) {
      ColumnStats s = cols.get(c);
      assertThat(s.getValueCount()).as(c).isEqualTo(3_000);
      assertThat(s.getNullCount()).as(c).isEqualTo(expected.nulls.get(c)[0]);
      assertThat(s.getMin().getRendered()).as(c + " min").isEqualTo(expected.minMax.get(c)[0]);
      assertThat(s.getMax().getRendered()).as(c + " max").isEqualTo(expected.minMax.get(c)[1]);
      assertThat(s.getCompressedSize()).as(c).isPositive();
    }
    assertThat(cols.get("amount").getLogicalType()).isEqualTo("DECIMAL(12,2)");
    assertThat(cols.get("ts").getMin().getIntValue()).isPositive();
  }

  @Test
  void decodingAddsExactNdvBelowTheSketchSizeNanCountsAndWidths() throws Exception {
    Path file = dir.resolve("decoded.parquet");
    Expected expected = write(file, 1_500, 11); // fewer distinct values than the sketch holds: exact mode
    TargetStatsRecord rec = ParquetFileStats.capture(file, "t", "s", ColumnSelection.newBuilder().setAll(true).build(),
        true);
    for (ColumnStats c : rec.getColumnsList()) {
      long exact = expected.distinct.get(c.getColumn()).size();
      long nonNull = expected.rows - expected.nulls.get(c.getColumn())[0];
      assertThat(c.getNdv().getEstimate()).as(c.getColumn()).isEqualTo(exact);
      assertThat(c.getNdv().getLowerBound()).isLessThanOrEqualTo(exact);
      assertThat(c.getNdv().getUpperBound()).isGreaterThanOrEqualTo(exact);
      assertThat(c.getNdv().getThetaSketch().isEmpty()).isFalse();
      assertThat(c.getAvgWidth()).as(c.getColumn() + " width")
          .isCloseTo((double) expected.widths.get(c.getColumn())[0] / nonNull, org.assertj.core.data.Offset.offset(1e-9));
    }
    ColumnStats score = rec.getColumnsList().stream().filter(c -> c.getColumn().equals("score")).findFirst().orElseThrow();
    assertThat(score.hasNanCount()).isTrue();
    assertThat(score.getNanCount()).isZero();
    assertThat(rec.getColumnsList().stream().filter(c -> c.getColumn().equals("id")).findFirst().orElseThrow()
        .hasNanCount()).isFalse();
  }

  @Test
  void aFooterWithoutStatisticsIsDecodedInstead() throws Exception {
    Path file = dir.resolve("no-stats.parquet");
    Expected expected = write(file, 2_000, 5, false);
    try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(new org.apache.parquet.io.LocalInputFile(file))) {
      assertThat(reader.getFooter().getBlocks().get(0).getColumns().get(1).getStatistics().isEmpty())
          .as("the writer really left the statistics out").isTrue();
    }

    TargetStatsRecord rec = ParquetFileStats.capture(file, "t", "s", ColumnSelection.newBuilder().setAll(true).build());

    assertThat(rec.getColumnsList()).hasSize(7).allSatisfy(s -> {
      assertThat(s.getNullCount()).as(s.getColumn()).isEqualTo(expected.nulls.get(s.getColumn())[0]);
      assertThat(s.getMin().getRendered()).as(s.getColumn() + " min").isEqualTo(expected.minMax.get(s.getColumn())[0]);
      assertThat(s.getMax().getRendered()).as(s.getColumn() + " max").isEqualTo(expected.minMax.get(s.getColumn())[1]);
    });
  }

  @Test
  void binaryStatisticsOfAnOldWriterAreNotTrustedButDecoded() throws Exception {
    Path modern = dir.resolve("modern.parquet");
    Expected expected = write(modern, 2_000, 9);
    Path old = dir.resolve("old-writer.parquet");
    FooterSurgery.asOldWriter(modern, old);
    try (var reader = org.apache.parquet.hadoop.ParquetFileReader.open(new org.apache.parquet.io.LocalInputFile(old))) {
      assertThat(reader.getFooter().getBlocks().get(0).getColumns().get(1).getStatistics().hasNonNullValue())
          .as("the reader distrusts the old writer's string min/max").isFalse();
    }

    TargetStatsRecord rec = ParquetFileStats.capture(old, "t", "s", ColumnSelection.newBuilder().setAll(true).build());

    ColumnStats name = rec.getColumnsList().stream().filter(c -> c.getColumn().equals("name")).findFirst().orElseThrow();
    assertThat(name.getMin().getRendered()).isEqualTo(expected.minMax.get("name")[0]);
    assertThat(name.getMax().getRendered()).isEqualTo(expected.minMax.get("name")[1]);
    assertThat(name.getNullCount()).isEqualTo(expected.nulls.get("name")[0]);
  }

  @Test
  void columnSelectionFirstNAndExplicit() throws Exception {
    Path file = dir.resolve("part-1.parquet");
    write(file, 100, 3);
    assertThat(ParquetFileStats.capture(file, "t", "s", ColumnSelection.newBuilder().setFirstN(2).build())
        .getColumnsList()).extracting(ColumnStats::getColumn).containsExactly("id", "name");
    assertThat(ParquetFileStats.capture(file, "t", "s", ColumnSelection.newBuilder()
        .setExplicit(ColumnList.newBuilder().addNames("ts").addNames("flag")).build())
        .getColumnsList()).extracting(ColumnStats::getColumn).containsExactly("ts", "flag");
  }

  @Test
  void corruptTruncatedAndNonParquetFilesAreClearPerFileFailures() throws Exception {
    Path good = dir.resolve("good.parquet");
    write(good, 500, 1);
    byte[] bytes = Files.readAllBytes(good);

    Path truncated = dir.resolve("truncated.parquet");
    Files.write(truncated, Arrays.copyOf(bytes, bytes.length / 2));
    Path text = dir.resolve("notes.parquet");
    Files.writeString(text, "id,name\n1,alice\n", StandardCharsets.UTF_8);
    Path corrupt = dir.resolve("corrupt.parquet");
    byte[] mangled = bytes.clone();
    for (int i = mangled.length - 200; i < mangled.length - 8; i++) {
      mangled[i] = (byte) 0x5A;
    }
    Files.write(corrupt, mangled);

    for (Path bad : new Path[] {truncated, text, corrupt}) {
      assertThatThrownBy(() -> ParquetFileStats.capture(bad, "t", "s", ColumnSelection.getDefaultInstance()))
          .isInstanceOf(FileCaptureException.class)
          .hasMessageStartingWith(bad.toString())
          .hasMessageContaining("Parquet file");
    }
    assertThatThrownBy(() -> ParquetFileStats.capture(dir.resolve("missing.parquet"), "t", "s",
        ColumnSelection.getDefaultInstance())).isInstanceOf(FileCaptureException.class)
        .hasMessageContaining("missing.parquet");
  }
}
