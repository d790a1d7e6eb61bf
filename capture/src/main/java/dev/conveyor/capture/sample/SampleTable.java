package dev.conveyor.capture.sample;

import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.DOUBLE;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Random;
import org.apache.parquet.example.data.Group;
import org.apache.parquet.example.data.simple.SimpleGroupFactory;
import org.apache.parquet.hadoop.ParquetWriter;
import org.apache.parquet.hadoop.example.ExampleParquetWriter;
import org.apache.parquet.io.LocalOutputFile;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.MessageType;
import org.apache.parquet.schema.Types;

/** A small, deterministic orders table for demos: ids, customers, decimal amounts, timestamps, scores with nulls. */
public final class SampleTable {
  public static final MessageType SCHEMA = Types.buildMessage()
      .required(INT64).named("order_id")
      .optional(BINARY).as(LogicalTypeAnnotation.stringType()).named("customer")
      .optional(INT64).as(LogicalTypeAnnotation.decimalType(2, 12)).named("amount")
      .optional(INT64).as(LogicalTypeAnnotation.timestampType(true, LogicalTypeAnnotation.TimeUnit.MILLIS))
      .named("ordered_at")
      .optional(DOUBLE).named("score")
      .named("orders");

  private SampleTable() {}

  /** Writes {@code files} Parquet files of {@code rowsPerFile} rows into {@code dir} (replacing earlier ones). */
  public static void write(Path dir, int files, int rowsPerFile) throws IOException {
    Files.createDirectories(dir);
    SimpleGroupFactory groups = new SimpleGroupFactory(SCHEMA);
    String[] customers = {"acme", "globex", "initech", "umbrella", "hooli", "stark"};
    for (int f = 0; f < files; f++) {
      Path file = dir.resolve(String.format("orders-%03d.parquet", f));
      Files.deleteIfExists(file);
      Random random = new Random(f);
      try (ParquetWriter<Group> w = ExampleParquetWriter.builder(new LocalOutputFile(file)).withType(SCHEMA).build()) {
        for (int i = 0; i < rowsPerFile; i++) {
          Group g = groups.newGroup().append("order_id", (long) f * rowsPerFile + i);
          if (random.nextInt(10) > 0) {
            g.append("customer", customers[random.nextInt(customers.length)]);
          }
          g.append("amount", (long) random.nextInt(500_000));
          g.append("ordered_at", 1_760_000_000_000L + (long) f * 86_400_000L + random.nextInt(86_400_000));
          if (random.nextInt(5) > 0) {
            g.append("score", Math.round(random.nextGaussian() * 1000) / 10.0);
          }
          w.write(g);
        }
      }
    }
  }
}
