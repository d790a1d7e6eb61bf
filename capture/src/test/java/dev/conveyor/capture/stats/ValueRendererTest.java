package dev.conveyor.capture.stats;

import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.BINARY;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT32;
import static org.apache.parquet.schema.PrimitiveType.PrimitiveTypeName.INT64;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.TypeNames;
import org.apache.parquet.schema.LogicalTypeAnnotation;
import org.apache.parquet.schema.LogicalTypeAnnotation.TimeUnit;
import org.apache.parquet.schema.PrimitiveType;
import org.apache.parquet.schema.Types;
import org.junit.jupiter.api.Test;

/** Values render by their logical type, and types read as Iceberg/SQL names. */
class ValueRendererTest {
  private static PrimitiveType int64(LogicalTypeAnnotation a) {
    return Types.optional(INT64).as(a).named("c");
  }

  @Test
  void aTimestampClaimsAZoneOnlyWhenItIsAdjustedToUtc() {
    long micros = 1_709_251_200_000_000L; // 2024-03-01T00:00:00 UTC
    assertThat(ValueRenderer.render(int64(LogicalTypeAnnotation.timestampType(true, TimeUnit.MICROS)), micros)
        .getRendered()).isEqualTo("2024-03-01T00:00:00Z");
    assertThat(ValueRenderer.render(int64(LogicalTypeAnnotation.timestampType(false, TimeUnit.MICROS)), micros)
        .getRendered()).isEqualTo("2024-03-01T00:00");
    assertThat(ValueRenderer.render(int64(LogicalTypeAnnotation.timestampType(false, TimeUnit.MILLIS)), 1_500L)
        .getRendered()).isEqualTo("1970-01-01T00:00:01.500");
  }

  @Test
  void decimalsKeepTheirScale() {
    PrimitiveType d = Types.optional(INT32).as(LogicalTypeAnnotation.decimalType(2, 9)).named("d");
    assertThat(ValueRenderer.render(d, 1200).getRendered()).isEqualTo("12.00");
  }

  @Test
  void typesReadAsIcebergNames() {
    String[][] cases = {
        {"INT32", ValueRenderer.logicalType(Types.optional(INT32).named("a")), "int"},
        {"INT64", ValueRenderer.logicalType(Types.optional(INT64).named("a")), "long"},
        {"INT32", ValueRenderer.logicalType(Types.optional(INT32).as(LogicalTypeAnnotation.intType(32, true))
            .named("a")), "int"},
        {"INT32", ValueRenderer.logicalType(Types.optional(INT32).as(LogicalTypeAnnotation.intType(32, false))
            .named("a")), "long"},
        {"INT64", ValueRenderer.logicalType(int64(LogicalTypeAnnotation.timestampType(true, TimeUnit.MICROS))),
            "timestamptz"},
        {"INT64", ValueRenderer.logicalType(int64(LogicalTypeAnnotation.timestampType(false, TimeUnit.NANOS))),
            "timestamp"},
        {"INT64", ValueRenderer.logicalType(int64(LogicalTypeAnnotation.decimalType(2, 12))), "decimal(12,2)"},
        {"BINARY", ValueRenderer.logicalType(Types.optional(BINARY).as(LogicalTypeAnnotation.stringType())
            .named("a")), "string"},
        {"BINARY", ValueRenderer.logicalType(Types.optional(BINARY).named("a")), "binary"},
        {"INT32", ValueRenderer.logicalType(Types.optional(INT32).as(LogicalTypeAnnotation.dateType()).named("a")),
            "date"},
        {"BOOLEAN", "BOOLEAN", "boolean"},
        {"DOUBLE", "DOUBLE", "double"},
    };
    for (String[] c : cases) {
      assertThat(TypeNames.of(c[0], c[1])).as(c[1]).isEqualTo(c[2]);
    }
  }
}
