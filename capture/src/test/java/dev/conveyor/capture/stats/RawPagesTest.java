package dev.conveyor.capture.stats;

import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.DOUBLE;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.FLOAT;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT32;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64;
import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import org.apache.parquet.ParquetReadOptions;
import org.apache.parquet.column.Encoding;
import org.apache.parquet.conf.PlainParquetConfiguration;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetFileReader;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.hadoop.metadata.CompressionCodecName;
import org.apache.parquet.io.LocalInputFile;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Types;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

/**
 * The page-bytes path gives exactly what the general decode gives (the same sketch bytes, NaN count and
 * width) on the encodings writers produce: dictionaries, PLAIN pages, a dictionary that overflows into
 * PLAIN pages mid-chunk, nulls, empty strings, NaN in a dictionary and in PLAIN pages, compression.
 */
class RawPagesTest {
  private static final MessageType SCHEMA = Types.buildMessage()
      .optional(BINARY).as(LogicalTypeAnnotation.stringType()).named("few_names")
      .optional(BINARY).as(LogicalTypeAnnotation.stringType()).named("many_names")
      .required(INT64).named("id")
      .optional(INT32).named("small")
      .optional(DOUBLE).named("score")
      .optional(FLOAT).named("ratio")
      .named("t");

  @TempDir Path dir;

  @ParameterizedTest(name = "dictionary {0}, dictionary page {1} bytes, {2}")
  @CsvSource({"true, 1048576, UNCOMPRESSED", "true, 16384, SNAPPY", "false, 1048576, UNCOMPRESSED",
      "true, 1048576, ZSTD"})
  void thePageBytesPathAgreesWithTheGeneralDecode(boolean dictionary, int dictionaryPageSize, String codec)
      throws Exception {
    Path file = dir.resolve("mixed.parquet");
    Map<String, Object[]> written = write(file, 40_000, dictionary, dictionaryPageSize,
        CompressionCodecName.valueOf(codec));
    List<String> columns = List.of("few_names", "many_names", "id", "small", "score", "ratio");
    Map<String, ColumnDecoder.Decoded> raw = decode(file, columns, true);
    Map<String, ColumnDecoder.Decoded> general = decode(file, columns, false);
    for (String c : columns) {
      var a = raw.get(c).stats().build();
      var b = general.get(c).stats().build();
      if (b.getNdv().getEstimate() < ColumnDecoder.NDV_NOMINAL_ENTRIES) {
        // exact mode: the same distinct values give the same (ordered) sketch, whatever the order of hashing
        assertThat(a.getNdv().getThetaSketch()).as(c + " sketch").isEqualTo(b.getNdv().getThetaSketch());
        assertThat(a.getNdv().getEstimate()).as(c + " ndv").isEqualTo(b.getNdv().getEstimate());
      } else {
        // estimation mode: the retained sample depends on the order values were hashed in (a chunk's
        // dictionary entries are hashed at its end); both estimates must lie within each other's bounds
        assertThat(a.getNdv().getEstimate()).as(c + " ndv").isBetween(b.getNdv().getLowerBound(),
            b.getNdv().getUpperBound());
        assertThat(b.getNdv().getEstimate()).as(c + " ndv").isBetween(a.getNdv().getLowerBound(),
            a.getNdv().getUpperBound());
      }
      assertThat(a.getAvgWidth()).as(c + " width").isEqualTo(b.getAvgWidth());
      assertThat(a.getNanCount()).as(c + " NaN").isEqualTo(b.getNanCount());
      assertThat(raw.get(c).nulls()).as(c + " nulls").isEqualTo(general.get(c).nulls());
    }
    try (ParquetFileReader r = ParquetFileReader.open(new LocalInputFile(file))) {
      var schema = r.getFooter().getFileMetaData().getSchema();
      for (var chunk : r.getFooter().getBlocks().get(0).getColumns()) {
        assertThat(RawPages.eligible(schema.getColumnDescription(chunk.getPath().toArray()), chunk))
            .as("%s takes the page-bytes path", chunk.getPath()).isTrue();
      }
    }
    // decoding every value to order it agrees with the writer's own footer statistics, and with the NaN count
    Map<String, ColumnDecoder.Decoded> ordered;
    try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file),
        ParquetReadOptions.builder(new PlainParquetConfiguration()).build())) {
      ordered = ColumnDecoder.decode(reader, reader.getFooter().getFileMetaData().getSchema(), columns,
          reader.getFooter().getFileMetaData().getCreatedBy(), Set.copyOf(columns), true);
      for (String c : columns) {
        org.apache.parquet.column.statistics.Statistics<?> footer = null;
        for (var block : reader.getFooter().getBlocks()) {
          for (var chunk : block.getColumns()) {
            if (chunk.getPath().toDotString().equals(c)) {
              if (footer == null) {
                footer = org.apache.parquet.column.statistics.Statistics.getBuilderForReading(
                    chunk.getPrimitiveType()).build();
              }
              footer.mergeStatistics(chunk.getStatistics());
            }
          }
        }
        if (footer.hasNonNullValue()) {
          assertThat(ordered.get(c).min()).as(c + " min").isEqualTo(footer.genericGetMin());
          assertThat(ordered.get(c).max()).as(c + " max").isEqualTo(footer.genericGetMax());
        } else { // parquet-java drops a float chunk's min/max when it holds NaN: what was written instead
          assertThat(ordered.get(c).min()).as(c + " min").isEqualTo(written.get(c)[0]);
          assertThat(ordered.get(c).max()).as(c + " max").isEqualTo(written.get(c)[1]);
        }
        assertThat(ordered.get(c).stats().getNanCount()).as(c + " NaN").isEqualTo(b(general, c).getNanCount());
        assertThat(ordered.get(c).stats().build().getNdv().getEstimate()).as(c + " ndv")
            .isEqualTo(b(general, c).getNdv().getEstimate()); // both hash every value in row order
      }
    }
    assertThat(raw.get("score").stats().getNanCount()).as("NaN really occurs").isPositive();
    assertThat(raw.get("ratio").stats().getNanCount()).isPositive();
    if (dictionary && dictionaryPageSize < 100_000) {
      try (ParquetFileReader r = ParquetFileReader.open(new LocalInputFile(file))) {
        var manyNames = r.getFooter().getBlocks().get(0).getColumns().get(1).getEncodingStats();
        assertThat(manyNames.getDataEncodings()).as("a dictionary that overflowed into PLAIN pages")
            .contains(Encoding.PLAIN).containsAnyOf(Encoding.PLAIN_DICTIONARY, Encoding.RLE_DICTIONARY);
      }
    }
  }

  private static dev.conveyor.api.catalog.ColumnStats b(Map<String, ColumnDecoder.Decoded> decoded, String column) {
    return decoded.get(column).stats().build();
  }

  private static Map<String, ColumnDecoder.Decoded> decode(Path file, List<String> columns, boolean rawPages)
      throws Exception {
    try (ParquetFileReader reader = ParquetFileReader.open(new LocalInputFile(file),
        ParquetReadOptions.builder(new PlainParquetConfiguration()).build())) {
      return ColumnDecoder.decode(reader, reader.getFooter().getFileMetaData().getSchema(), columns,
          reader.getFooter().getFileMetaData().getCreatedBy(), Set.of(), rawPages);
    }
  }

  /** Writes the file; answers the min and max (NaN aside) of the floating-point columns as written. */
  private static Map<String, Object[]> write(Path file, int rows, boolean dictionary, int dictionaryPageSize,
      CompressionCodecName codec) throws Exception {
    double[] score = {Double.POSITIVE_INFINITY, Double.NEGATIVE_INFINITY};
    float[] ratio = {Float.POSITIVE_INFINITY, Float.NEGATIVE_INFINITY};
    SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
    Random random = new Random(7);
    String[] few = {"", "a", "bb", "acme", "globex corporation", "é ü"};
    try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file)).withType(SCHEMA)
        .withDictionaryEncoding(dictionary).withDictionaryPageSize(dictionaryPageSize).withCompressionCodec(codec)
        .withPageSize(8 * 1024).withPageRowCountLimit(500).withRowGroupSize(512L * 1024).build()) {
      for (int i = 0; i < rows; i++) {
        Group g = groups.newGroup();
        if (random.nextInt(10) > 0) {
          g.append("few_names", few[random.nextInt(few.length)]);
        }
        if (random.nextInt(7) > 0) {
          // few distinct names first, so the first pages are dictionary-encoded before the dictionary overflows
          g.append("many_names", "name-" + random.nextInt(i < rows / 4 ? 20 : rows));
        }
        g.append("id", (long) i);
        if (random.nextInt(4) > 0) {
          g.append("small", random.nextInt(50));
        }
        if (random.nextInt(5) > 0) {
          double v = random.nextInt(100) == 0 ? Double.NaN : random.nextInt(300) / 10.0 - 10;
          g.append("score", v);
          if (!Double.isNaN(v)) {
            score[0] = Math.min(score[0], v);
            score[1] = Math.max(score[1], v);
          }
        }
        if (random.nextInt(5) > 0) {
          float v = random.nextInt(100) == 0 ? Float.NaN : random.nextFloat() - 0.5f;
          g.append("ratio", v);
          if (!Float.isNaN(v)) {
            ratio[0] = Math.min(ratio[0], v);
            ratio[1] = Math.max(ratio[1], v);
          }
        }
        w.write(g);
      }
    }
    return Map.of("score", new Object[] {score[0], score[1]}, "ratio", new Object[] {ratio[0], ratio[1]});
  }

  /**
   * A writer may keep dictionary entries no row uses (pyarrow writes a categorical's whole category list):
   * those are not values of the column, so NDV counts only the entries the rows reference.
   */
  @org.junit.jupiter.api.Test
  void dictionaryEntriesNoRowUsesAreNotCounted() throws Exception {
    var type = Types.optional(BINARY).as(LogicalTypeAnnotation.stringType()).named("c");
    var column = new org.apache.parquet.column.ColumnDescriptor(new String[] {"c"}, type, 0, 1);
    // dictionary: four categories; rows: "b", null, "d", "b", "b" (BIT_PACKED-free, RLE levels)
    java.io.ByteArrayOutputStream dict = new java.io.ByteArrayOutputStream();
    for (String v : new String[] {"a", "b", "c", "d"}) {
      byte[] bytes = v.getBytes(java.nio.charset.StandardCharsets.UTF_8);
      dict.write(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(bytes.length).array());
      dict.write(bytes);
    }
    var levels = new org.apache.parquet.column.values.rle.RunLengthBitPackingHybridEncoder(1, 64, 1024,
        new org.apache.parquet.bytes.HeapByteBufferAllocator());
    for (int level : new int[] {1, 0, 1, 1, 1}) {
      levels.writeInt(level);
    }
    byte[] levelBytes = levels.toBytes().toByteArray();
    var indices = new org.apache.parquet.column.values.rle.RunLengthBitPackingHybridEncoder(2, 64, 1024,
        new org.apache.parquet.bytes.HeapByteBufferAllocator());
    for (int index : new int[] {1, 3, 1, 1}) {
      indices.writeInt(index);
    }
    java.io.ByteArrayOutputStream page = new java.io.ByteArrayOutputStream();
    page.write(java.nio.ByteBuffer.allocate(4).order(java.nio.ByteOrder.LITTLE_ENDIAN).putInt(levelBytes.length).array());
    page.write(levelBytes);
    page.write(2); // the indices' bit width
    page.write(indices.toBytes().toByteArray());
    var dictionaryPage = new org.apache.parquet.column.page.DictionaryPage(
        org.apache.parquet.bytes.BytesInput.from(dict.toByteArray()), 4, Encoding.PLAIN_DICTIONARY);
    var dataPage = new org.apache.parquet.column.page.DataPageV1(org.apache.parquet.bytes.BytesInput.from(
        page.toByteArray()), 5, page.size(), org.apache.parquet.column.statistics.Statistics.createStats(type),
        Encoding.BIT_PACKED, Encoding.RLE, Encoding.RLE_DICTIONARY);
    java.util.Iterator<org.apache.parquet.column.page.DataPage> pages = List.<org.apache.parquet.column.page.DataPage>of(
        dataPage).iterator();
    org.apache.parquet.column.page.PageReader reader = new org.apache.parquet.column.page.PageReader() {
      @Override
      public org.apache.parquet.column.page.DictionaryPage readDictionaryPage() {
        return dictionaryPage;
      }

      @Override
      public long getTotalValueCount() {
        return 5;
      }

      @Override
      public org.apache.parquet.column.page.DataPage readPage() {
        return pages.hasNext() ? pages.next() : null;
      }
    };
    var sketch = org.apache.datasketches.theta.UpdateSketch.builder().build();
    RawPages.ChunkValues read = RawPages.read(column, reader, sketch);
    assertThat(sketch.getEstimate()).as("b and d, not the four categories").isEqualTo(2.0);
    assertThat(read.values()).isEqualTo(5);
    assertThat(read.nonNull()).isEqualTo(4);
    assertThat(read.widthBytes()).isEqualTo(4);
  }
}
