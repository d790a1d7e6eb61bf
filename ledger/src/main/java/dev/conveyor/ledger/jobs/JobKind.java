package dev.conveyor.ledger.jobs;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

public enum JobKind {
  PLAN_CONNECTOR,
  PLAN_TABLE,
  PLAN_SNAPSHOT,
  EXEC_FILE_GROUP,
  FINALIZE_SNAPSHOT,
  BUILD;

  /** Parses a kind from user input, with an error that lists the valid kinds. */
  public static JobKind parse(String text) {
    if (text == null || text.isBlank()) {
      throw new IllegalArgumentException("job kind is empty; expected one of " + names());
    }
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("unknown job kind '" + text + "'; expected one of " + names());
    }
  }

  static String names() {
    return Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", "));
  }
}
