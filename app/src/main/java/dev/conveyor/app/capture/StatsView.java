package dev.conveyor.app.capture;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.api.catalog.ColumnStats;
import dev.conveyor.api.catalog.StatValue;
import dev.conveyor.api.catalog.TargetStatsRecord;
import dev.conveyor.app.cli.Table;
import dev.conveyor.capture.stats.TypeNames;
import dev.conveyor.ledger.Tx;
import dev.conveyor.reconcile.planning.CaptureCompleteness;
import java.io.PrintStream;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.LinkedHashSet;
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
    TargetStatsRecord table = parse(tx.queryOne("SELECT record FROM capture_stats WHERE"
        + " table_id = ? AND snapshot_id = ? AND target_key = 'table'", rs -> rs.getBytes(1), ask.table(),
        ask.snapshot()).orElseThrow(() -> new IllegalArgumentException("snapshot '" + ask.snapshot() + "' of table '"
        + ask.table() + "' has no table statistics (the capture has not finalized)")));
    Set<String> known = new LinkedHashSet<>();
    table.getColumnsList().forEach(c -> known.add(c.getColumn()));
    for (String c : ask.columns()) {
      if (!known.contains(c)) {
        throw new IllegalArgumentException("--columns: '" + c + "' is not a captured column of '" + ask.table()
            + "' (captured: " + String.join(", ", known) + ")");
      }
    }
    ObjectNode out = JSON.objectNode();
    out.put("table", ask.table());
    out.put("snapshot", ask.snapshot());
    out.put("row_count", table.getRowCount());
    out.put("file_count", table.getFileCount());
    out.put("size_bytes", table.getSizeBytes());
    ObjectNode completeness = out.putObject("completeness");
    var c = CaptureCompleteness.ofSnapshot(tx, ask.table(), ask.snapshot(), 0);
    completeness.put("files_planned", c.map(x -> x.getFilesPlanned()).orElse(table.getFilesPlanned()));
    completeness.put("files_captured", c.map(x -> x.getFilesCaptured()).orElse(table.getFileCount()));
    out.set("columns", columns(table, ask.columns()));
    long omitted = 0;
    if (ask.files() > 0) {
      ArrayNode files = out.putArray("files");
      List<byte[]> records = tx.query("SELECT record FROM capture_stats WHERE table_id = ? AND snapshot_id = ? AND"
          + " target_key LIKE 'file:%' ORDER BY target_key LIMIT ?", rs -> rs.getBytes(1), ask.table(), ask.snapshot(),
          ask.files() + 1);
      for (int i = 0; i < Math.min(records.size(), ask.files()); i++) {
        TargetStatsRecord f = parse(records.get(i));
        ObjectNode file = files.addObject();
        file.put("path", f.getTarget().getFile().getPath());
        file.put("row_count", f.getRowCount());
        file.put("size_bytes", f.getSizeBytes());
        file.set("columns", columns(f, ask.columns()));
      }
      if (records.size() > ask.files()) {
        omitted = tx.queryLong("SELECT COUNT(*) FROM capture_stats WHERE table_id = ? AND snapshot_id = ? AND"
            + " target_key LIKE 'file:%'", ask.table(), ask.snapshot()) - ask.files();
      }
    }
    return new View(out, omitted);
  }

  private static TargetStatsRecord parse(byte[] bytes) {
    try {
      return TargetStatsRecord.parseFrom(bytes);
    } catch (com.google.protobuf.InvalidProtocolBufferException e) {
      throw new IllegalStateException("a stored statistics record is unreadable: " + e.getMessage(), e);
    }
  }

  private static ObjectNode columns(TargetStatsRecord rec, Set<String> only) {
    ObjectNode out = JSON.objectNode();
    for (ColumnStats c : rec.getColumnsList()) {
      if (only.isEmpty() || only.contains(c.getColumn())) {
        out.set(c.getColumn(), column(c, rec.getRowCount()));
      }
    }
    return out;
  }

  static ObjectNode column(ColumnStats c, long rows) {
    ObjectNode o = JSON.objectNode();
    String type = TypeNames.of(c.getPhysicalType(), c.getLogicalType());
    o.put("type", type);
    o.put("row_count", rows);
    o.put("null_count", c.getNullCount());
    if (c.hasNanCount()) {
      o.put("nan_count", c.getNanCount());
    } else {
      o.putNull("nan_count");
    }
    o.set("min", c.hasMin() ? value(c.getMin(), type) : JSON.nullNode());
    o.set("max", c.hasMax() ? value(c.getMax(), type) : JSON.nullNode());
    if (c.hasNdv()) {
      o.put("ndv", Math.round(c.getNdv().getEstimate()));
      o.put("ndv_lower", (long) Math.floor(c.getNdv().getLowerBound()));
      o.put("ndv_upper", (long) Math.ceil(c.getNdv().getUpperBound()));
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
