package dev.conveyor.app.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.api.catalog.StatValue;
import dev.conveyor.api.reconcile.ColumnStatsView;
import dev.conveyor.api.reconcile.FileStats;
import dev.conveyor.api.reconcile.TableStats;
import dev.conveyor.app.cli.Table;
import dev.conveyor.ledger.Tx;
import dev.conveyor.reconcile.control.StatsReader;
import java.io.PrintStream;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;
import java.util.Set;

/**
 * A captured snapshot's statistics as {@code capture stats} shows them: the table's columns, and per file
 * when asked, each column's row, null, NaN and distinct counts with the estimate's bounds, min and max. Values
 * are typed by the column's logical type (decimals keep their scale; timestamps not adjusted to UTC carry no
 * zone); types use Iceberg/SQL names. Read from the ledger's records in one transaction.
 */
final class StatsView {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  /** What the view covers. {@code columns} empty: all of them; {@code files} 0: no per-file part. */
  record Ask(String table, String snapshot, Set<String> columns, int files) {}

  /** The view as JSON, and the files left out by the limit. */
  record View(ObjectNode json, long omittedFiles) {}

  private StatsView() {}

  static View read(Tx tx, Ask ask) throws SQLException {
    TableStats table = StatsReader.table(tx, ask.table(), ask.snapshot(), ask.columns()).orElseThrow(
        () -> new IllegalArgumentException("snapshot '" + ask.snapshot() + "' of table '" + ask.table()
            + "' has no table statistics (the capture has not finalized)"));
    ObjectNode out = JSON.objectNode();
    out.put("table", ask.table());
    out.put("snapshot", ask.snapshot());
    out.put("row_count", table.getRowCount());
    out.put("file_count", table.getFileCount());
    out.put("size_bytes", table.getSizeBytes());
    ObjectNode completeness = out.putObject("completeness");
    boolean known = table.hasCompleteness();
    completeness.put("files_planned", known ? table.getCompleteness().getFilesPlanned() : table.getFileCount());
    completeness.put("files_captured", known ? table.getCompleteness().getFilesCaptured() : table.getFileCount());
    String statisticsFile = known ? table.getCompleteness().getStatisticsFile() : "";
    if (statisticsFile.isEmpty()) {
      out.putNull("statistics_file");
    } else {
      out.put("statistics_file", statisticsFile);
    }
    out.set("columns", columns(table.getColumnsList()));
    long omitted = 0;
    if (ask.files() > 0) {
      ArrayNode files = out.putArray("files");
      List<FileStats> page = StatsReader.files(tx, ask.table(), ask.snapshot(), ask.columns(), null, ask.files() + 1);
      for (FileStats f : page.subList(0, Math.min(page.size(), ask.files()))) {
        ObjectNode file = files.addObject();
        file.put("path", f.getPath());
        file.put("row_count", f.getRowCount());
        file.put("size_bytes", f.getSizeBytes());
        file.set("columns", columns(f.getColumnsList()));
      }
      if (page.size() > ask.files()) {
        omitted = StatsReader.fileCount(tx, ask.table(), ask.snapshot()) - ask.files();
      }
    }
    return new View(out, omitted);
  }

  private static ObjectNode columns(List<ColumnStatsView> views) {
    ObjectNode out = JSON.objectNode();
    for (ColumnStatsView c : views) {
      out.set(c.getColumn(), column(c));
    }
    return out;
  }

  static ObjectNode column(ColumnStatsView c) {
    ObjectNode o = JSON.objectNode();
    o.put("type", c.getType());
    o.put("row_count", c.getRowCount());
    o.put("null_count", c.getNullCount());
    if (c.hasNanCount()) {
      o.put("nan_count", c.getNanCount());
    } else {
      o.putNull("nan_count");
    }
    o.set("min", c.hasMin() ? value(c.getMin(), c.getType()) : JSON.nullNode());
    o.set("max", c.hasMax() ? value(c.getMax(), c.getType()) : JSON.nullNode());
    if (c.hasNdv()) {
      o.put("ndv", c.getNdv());
      o.put("ndv_lower", c.getNdvLower());
      o.put("ndv_upper", c.getNdvUpper());
    } else {
      o.putNull("ndv");
      o.putNull("ndv_lower");
      o.putNull("ndv_upper");
    }
    return o;
  }

  /** Numbers as JSON numbers (exact for integers), everything whose text is its meaning as that text. */
  private static JsonNode value(StatValue v, String type) {
    boolean numeric = type.equals("int") || type.equals("long") || type.equals("float") || type.equals("double");
    return switch (v.getValueCase()) {
      case BOOL_VALUE -> JSON.booleanNode(v.getBoolValue());
      case INT_VALUE -> numeric ? JSON.numberNode(v.getIntValue()) : JSON.textNode(v.getRendered());
      case DOUBLE_VALUE -> Double.isFinite(v.getDoubleValue()) ? JSON.numberNode(v.getDoubleValue())
          : JSON.textNode(v.getRendered());
      default -> JSON.textNode(v.getRendered());
    };
  }

  static void printJson(View view, PrintStream out) throws java.io.IOException {
    out.println(new ObjectMapper().writerWithDefaultPrettyPrinter().writeValueAsString(view.json()));
  }

  static void printText(View view, PrintStream out) {
    JsonNode j = view.json();
    out.println(j.get("table").asText() + " @ " + j.get("snapshot").asText() + ": " + j.get("file_count").asLong()
        + " files, " + j.get("row_count").asLong() + " rows, " + j.get("size_bytes").asLong() + " bytes");
    if (!j.get("statistics_file").isNull()) {
      out.println("Puffin statistics file (registered in the Iceberg table): " + j.get("statistics_file").asText());
    }
    table(j.get("columns"), out);
    if (j.has("files")) {
      for (JsonNode f : j.get("files")) {
        out.println();
        out.println(f.get("path").asText() + ": " + f.get("row_count").asLong() + " rows, "
            + f.get("size_bytes").asLong() + " bytes");
        table(f.get("columns"), out);
      }
      if (view.omittedFiles() > 0) {
        out.println();
        out.println("and " + view.omittedFiles() + " more files (raise --limit, or use --json)");
      }
    }
  }

  private static void table(JsonNode columns, PrintStream out) {
    Table t = new Table("COLUMN", "TYPE", "ROWS", "NULLS", "NAN", "NDV (BOUNDS)", "MIN", "MAX");
    List<String> names = new ArrayList<>();
    columns.fieldNames().forEachRemaining(names::add);
    for (String name : names) {
      JsonNode c = columns.get(name);
      t.row(name, c.get("type").asText(), c.get("row_count").asLong(), c.get("null_count").asLong(),
          text(c.get("nan_count")), c.get("ndv").isNull() ? "-" : c.get("ndv").asLong() + " (" + c.get("ndv_lower")
              .asLong() + "–" + c.get("ndv_upper").asLong() + ")", text(c.get("min")), text(c.get("max")));
    }
    t.printOr(out, "no column statistics were captured");
  }

  private static String text(JsonNode v) {
    return v == null || v.isNull() ? "-" : v.asText();
  }
}
