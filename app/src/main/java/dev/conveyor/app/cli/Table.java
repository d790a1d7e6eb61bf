package dev.conveyor.app.cli;

import java.io.PrintStream;
import java.util.ArrayList;
import java.util.List;

/** A plain-text table with columns sized to their content. */
public final class Table {
  private final List<String> headers;
  private final List<List<String>> rows = new ArrayList<>();

  public Table(String... headers) {
    this.headers = List.of(headers);
  }

  public Table row(Object... cells) {
    List<String> row = new ArrayList<>();
    for (Object c : cells) {
      row.add(c == null ? "-" : c.toString());
    }
    rows.add(row);
    return this;
  }

  public boolean isEmpty() {
    return rows.isEmpty();
  }

  /** Prints the table, or {@code whenEmpty} when it has no rows. */
  public void printOr(PrintStream out, String whenEmpty) {
    if (rows.isEmpty()) {
      out.println(whenEmpty);
    } else {
      print(out);
    }
  }

  public void print(PrintStream out) {
    int[] widths = new int[headers.size()];
    for (int i = 0; i < widths.length; i++) {
      widths[i] = headers.get(i).length();
      for (List<String> r : rows) {
        widths[i] = Math.max(widths[i], r.get(i).length());
      }
    }
    out.println(format(headers, widths));
    for (List<String> r : rows) {
      out.println(format(r, widths));
    }
  }

  private static String format(List<String> cells, int[] widths) {
    StringBuilder sb = new StringBuilder();
    for (int i = 0; i < cells.size(); i++) {
      if (i > 0) {
        sb.append("  ");
      }
      String c = cells.get(i);
      sb.append(i == cells.size() - 1 ? c : String.format("%-" + widths[i] + "s", c));
    }
    return sb.toString();
  }
}
