package dev.conveyor.capture.pageindex;

import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.DOUBLE;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT32;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.capture.stats.FooterSurgery;
import java.io.IOException;
import java.nio.file.Path;
import java.time.LocalDate;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Random;
import java.util.function.Function;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Types;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Page indexes from Parquet's own index, from scanning and decoding, and from the rows agree page by page. */
class PageIndexReaderTest {
  @TempDir Path dir;

  static final MessageType SCHEMA = Types.buildMessage()
      .required(INT64).named("id")
      .optional(BINARY).as(LogicalTypeAnnotation.stringType()).named("name")
      .optional(DOUBLE).named("score")
      .optional(INT32).as(LogicalTypeAnnotation.dateType()).named("day")
      .named("t");
  static final List<String> COLUMNS = List.of("id", "name", "score", "day");

  /** The rows as written, per column (null for a null value). */
  record Rows(Map<String, List<Object>> values) {}

  static Rows write(Path file, int rows, boolean statistics) throws IOException {
    Random r = new Random(3);
    Map<String, List<Object>> values = Map.of("id", new ArrayList<>(), "name", new ArrayList<>(), "score",
        new ArrayList<>(), "day", new ArrayList<>());
    SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
    try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file)).withType(SCHEMA)
        .withRowGroupSize(24 * 1024L).withPageSize(1024)
        .withStatisticsEnabled(statistics).build()) {
      for (int i = 0; i < rows; i++) {
        Group g = groups.newGroup();
        long id = 1_000_000L - i * 7L;
        g.append("id", id);
        values.get("id").add(id);
        String name = r.nextInt(6) == 0 ? null : "n" + r.nextInt(300);
        values.get("name").add(name);
        if (name != null) {
          g.append("name", name);
        }
        Double score = r.nextInt(9) == 0 ? null : Math.round(r.nextGaussian() * 10_000) / 100.0;
        values.get("score").add(score);
        if (score != null) {
          g.append("score", score);
        }
        Integer day = i > rows / 2 && i < rows / 2 + 700 ? null : 18_000 + r.nextInt(500); // some all-null pages
        values.get("day").add(day);
        if (day != null) {
          g.append("day", day);
        }
        w.write(g);
      }
    }
    return new Rows(values);
  }

  @Test
  void nativeIndexScannedPagesAndTheRowsAgreePageByPage() throws Exception {
    Path withIndex = dir.resolve("with-index.parquet");
    Rows rows = write(withIndex, 6_000, true);
    Path withoutIndex = dir.resolve("without-index.parquet");
    FooterSurgery.withoutPageIndex(withIndex, withoutIndex);

    PageIndex fromNative = PageIndexReader.read(withIndex, COLUMNS);
    PageIndex fromPages = PageIndexReader.read(withoutIndex, COLUMNS);

    assertThat(fromNative.fromNativePageIndex()).isTrue();
    assertThat(fromPages.fromNativePageIndex()).isFalse();
    assertThat(fromNative.rowGroups()).isGreaterThan(1);
    assertThat(fromNative.dataPages()).isGreaterThan(4L * fromNative.rowGroups());
    assertThat(fromNative.entries().stream().anyMatch(PageEntry::dictionary)).isTrue();
    assertThat(fromPages.entries()).containsExactlyElementsOf(fromNative.entries());

    long[] groupStart = groupStarts(withIndex);
    for (PageEntry e : fromNative.entries()) {
      if (e.dictionary()) {
        continue;
      }
      int from = (int) (groupStart[e.rowGroup()] + e.firstRowIndex());
      List<Object> page = rows.values().get(e.column()).subList(from, (int) (from + e.rowCount()));
      assertThat(e.nullCount()).as(e.toString()).isEqualTo(page.stream().filter(Objects::isNull).count());
      assertThat(e.min()).as("min of " + e).isEqualTo(render(e.column(), page, true));
      assertThat(e.max()).as("max of " + e).isEqualTo(render(e.column(), page, false));
    }
    for (String column : COLUMNS) {
      long rowsCovered = fromNative.entries().stream().filter(e -> e.column().equals(column) && !e.dictionary())
          .mapToLong(PageEntry::rowCount).sum();
      assertThat(rowsCovered).as(column).isEqualTo(6_000);
    }
  }

  @Test
  void aFileWithOffsetsButNoColumnIndexDecodesOnlyTheStatistics() throws Exception {
    Path withStats = dir.resolve("with-stats.parquet");
    Path withoutStats = dir.resolve("without-stats.parquet");
    write(withStats, 3_000, true);
    write(withoutStats, 3_000, false);

    PageIndex full = PageIndexReader.read(withStats, COLUMNS);
    PageIndex partial = PageIndexReader.read(withoutStats, COLUMNS);

    assertThat(partial.fromNativePageIndex()).isFalse();
    assertThat(partial.entries()).extracting(e -> List.of(e.column(), e.rowGroup(), e.page(), e.rowCount(),
        Objects.toString(e.nullCount()), Objects.toString(e.min()), Objects.toString(e.max())))
        .containsExactlyElementsOf(full.entries().stream().map(e -> List.of(e.column(), e.rowGroup(), e.page(),
            e.rowCount(), Objects.toString(e.nullCount()), Objects.toString(e.min()), Objects.toString(e.max())))
            .toList());
  }

  private static long[] groupStarts(Path file) throws IOException {
    try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file))) {
      var blocks = reader.getFooter().getBlocks();
      long[] starts = new long[blocks.size()];
      for (int i = 1; i < blocks.size(); i++) {
        starts[i] = starts[i - 1] + blocks.get(i - 1).getRowCount();
      }
      return starts;
    }
  }

  @SuppressWarnings({"unchecked", "rawtypes"})
  private static String render(String column, List<Object> page, boolean min) {
    Comparator<Object> order = (a, b) -> ((Comparable) a).compareTo(b);
    var present = page.stream().filter(Objects::nonNull).toList();
    if (present.isEmpty()) {
      return null;
    }
    Object v = min ? present.stream().min(order).orElseThrow() : present.stream().max(order).orElseThrow();
    Function<Object, String> show = switch (column) {
      case "day" -> x -> LocalDate.ofEpochDay((Integer) x).toString();
      default -> Object::toString;
    };
    return show.apply(v);
  }
}
