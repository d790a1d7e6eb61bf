package dev.conveyor.app.cli;

import java.io.PrintStream;
import java.util.List;
import java.util.function.Function;

/** Draws any tree with box-drawing guides, one line per node. */
public final class TreeLines {
  private TreeLines() {}

  public static <N> void print(N node, Function<N, List<N>> children, Function<N, String> line, PrintStream out) {
    print(node, children, line, out, "", "");
  }

  private static <N> void print(N node, Function<N, List<N>> children, Function<N, String> line, PrintStream out,
      String lead, String childLead) {
    out.println(lead + line.apply(node));
    List<N> kids = children.apply(node);
    for (int i = 0; i < kids.size(); i++) {
      boolean last = i == kids.size() - 1;
      print(kids.get(i), children, line, out, childLead + (last ? "└─ " : "├─ "), childLead + (last ? "   " : "│  "));
    }
  }
}
