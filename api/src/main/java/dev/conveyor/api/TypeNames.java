package dev.conveyor.api;

import java.util.Locale;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A column's type as Iceberg and SQL engines name it ({@code int}, {@code long}, {@code decimal(12,2)},
 * {@code timestamp}, {@code timestamptz}, {@code string}…), from the Parquet physical type and the logical
 * type as statistics records keep them (parquet-java's annotation text, e.g. {@code INTEGER(32,true)}).
 */
public final class TypeNames {
  private static final Pattern INTEGER = Pattern.compile("INTEGER\\((\\d+),(true|false)\\)");
  private static final Pattern DECIMAL = Pattern.compile("DECIMAL\\((\\d+),(\\d+)\\)");
  private static final Pattern TIMESTAMP = Pattern.compile("TIMESTAMP\\((\\w+),(true|false)\\)");

  private TypeNames() {}

  public static String of(String physical, String logical) {
    String l = logical == null ? "" : logical;
    Matcher m = INTEGER.matcher(l);
    if (m.matches()) {
      int bits = Integer.parseInt(m.group(1));
      boolean signed = m.group(2).equals("true");
      return bits < 32 || (bits == 32 && signed) ? "int" : bits == 64 && !signed ? "decimal(20,0)" : "long";
    }
    m = DECIMAL.matcher(l);
    if (m.matches()) {
      return "decimal(" + m.group(1) + "," + m.group(2) + ")";
    }
    m = TIMESTAMP.matcher(l);
    if (m.matches()) {
      return m.group(2).equals("true") ? "timestamptz" : "timestamp";
    }
    if (l.startsWith("TIME(")) {
      return "time";
    }
    switch (l) {
      case "STRING", "ENUM", "JSON" -> {
        return "string";
      }
      case "DATE" -> {
        return "date";
      }
      case "UUID" -> {
        return "uuid";
      }
      default -> { }
    }
    return switch (physical == null ? "" : physical.toUpperCase(Locale.ROOT)) {
      case "BOOLEAN" -> "boolean";
      case "INT32" -> "int";
      case "INT64" -> "long";
      case "INT96" -> "timestamp";
      case "FLOAT" -> "float";
      case "DOUBLE" -> "double";
      case "FIXED_LEN_BYTE_ARRAY" -> "fixed";
      case "BINARY" -> "binary";
      default -> l.isEmpty() ? "unknown" : l.toLowerCase(Locale.ROOT);
    };
  }
}
