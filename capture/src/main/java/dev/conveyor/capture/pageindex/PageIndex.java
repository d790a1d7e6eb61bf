package dev.conveyor.capture.pageindex;

import java.util.List;

/** The page index of one file: every page of the selected columns, and whether it came from the file's own index. */
public record PageIndex(String sourceFile, List<String> columns, int rowGroups, List<PageEntry> entries,
    boolean fromNativePageIndex) {

  public PageIndex {
    columns = List.copyOf(columns);
    entries = List.copyOf(entries);
  }

  public long dataPages() {
    return entries.stream().filter(e -> !e.dictionary()).count();
  }
}
