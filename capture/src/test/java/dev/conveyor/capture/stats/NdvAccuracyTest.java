package dev.conveyor.capture.stats;

import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.catalog.ColumnStats;
import dev.conveyor.api.catalog.NdvSketch;
import dev.conveyor.api.reconcile.ColumnSelection;
import dev.conveyor.reconcile.planning.NdvUnion;
import java.io.IOException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import org.apache.datasketches.theta.SetOperation;
import org.apache.datasketches.theta.Union;
import org.apache.datasketches.theta.UpdateSketch;
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
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/** NDV estimates against exact distinct counts, and roll-ups against the sketch of all values. */
class NdvAccuracyTest {
  @TempDir Path dir;

  static final MessageType SCHEMA = Types.buildMessage()
      .required(INT64).named("n")
      .required(BINARY).as(LogicalTypeAnnotation.stringType()).named("s")
      .named("t");

  /** Rows {@code from} (inclusive) to {@code to} (exclusive) of the value sequence v = row % distinct. */
  static void write(Path file, long from, long to, long distinct) throws IOException {
    SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
    try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file)).withType(SCHEMA).build()) {
      for (long row = from; row < to; row++) {
        long v = row % distinct;
        w.write(groups.newGroup().append("n", v).append("s", "value-" + v));
      }
    }
  }

  private static ColumnStats column(Path file, String name) throws Exception {
    return ParquetFileStats.capture(file, "t", "s", ColumnSelection.newBuilder().setAll(true).build(), true)
        .getColumnsList().stream().filter(c -> c.getColumn().equals(name)).findFirst().orElseThrow();
  }

  @ParameterizedTest
  @ValueSource(ints = {10, 10_000, 1_000_000})
  void estimatesAreWithinTheirStatedBounds(int distinct) throws Exception {
    Path file = dir.resolve("ndv-" + distinct + ".parquet");
    write(file, 0, Math.max(distinct, 20_000), distinct);

    for (String name : List.of("n", "s")) {
      NdvSketch ndv = column(file, name).getNdv();
      assertThat(ndv.getLowerBound()).as(name + " lower bound").isLessThanOrEqualTo(distinct);
      assertThat(ndv.getUpperBound()).as(name + " upper bound").isGreaterThanOrEqualTo(distinct);
      if (distinct <= ColumnDecoder.NDV_NOMINAL_ENTRIES) {
        assertThat(ndv.getEstimate()).as(name + " is exact below the sketch size").isEqualTo(distinct);
      } else {
        assertThat(Math.abs(ndv.getEstimate() - distinct) / distinct).as(name + " relative error").isLessThan(0.07);
      }
    }
  }

  @Test
  void theRollUpOfFilesIsTheSketchOfTheirUnion() throws Exception {
    List<NdvSketch> files = new ArrayList<>();
    for (int k = 0; k < 4; k++) {
      Path file = dir.resolve("part-" + k + ".parquet");
      write(file, k * 200_000L, k * 200_000L + 300_000L, Long.MAX_VALUE); // overlapping ranges
      files.add(column(file, "n").getNdv());
    }
    NdvSketch rolledUp = files.get(0);
    for (NdvSketch f : files.subList(1, files.size())) {
      rolledUp = NdvUnion.union(rolledUp, f);
    }

    UpdateSketch all = UpdateSketch.builder().setNominalEntries(ColumnDecoder.NDV_NOMINAL_ENTRIES).build();
    for (long v = 0; v < 900_000; v++) {
      all.update(v);
    }
    Union single = SetOperation.builder().setNominalEntries(NdvUnion.NOMINAL_ENTRIES).buildUnion();
    single.union(all);

    assertThat(rolledUp.getEstimate()).isEqualTo(single.getResult().getEstimate());
    assertThat(rolledUp.getLowerBound()).isLessThanOrEqualTo(900_000);
    assertThat(rolledUp.getUpperBound()).isGreaterThanOrEqualTo(900_000);
    assertThat(rolledUp.getEstimate()).isNotCloseTo(files.stream().mapToDouble(NdvSketch::getEstimate).sum(),
        org.assertj.core.data.Percentage.withPercentage(10));
  }
}
