package dev.conveyor.ledger.jobs;

import java.util.Arrays;
import java.util.Locale;
import java.util.stream.Collectors;

public enum JobState {
  QUEUED,
  RUNNING,
  /** A parent whose children are still running. */
  WAITING,
  /** Cancel requested while a holder runs it; the holder or the reaper finishes the cancel. */
  CANCELLING,
  SUCCEEDED,
  FAILED,
  CANCELLED;

  public boolean isTerminal() {
    return this == SUCCEEDED || this == FAILED || this == CANCELLED;
  }

  /** Held by a lease holder. */
  public boolean isLeased() {
    return this == RUNNING || this == CANCELLING;
  }

  static final String TERMINAL_SQL = "('SUCCEEDED', 'FAILED', 'CANCELLED')";
  /** The complement of {@link #TERMINAL_SQL}, as IN so an index on (parent_id, state) can seek it. */
  static final String LIVE_SQL = "('QUEUED', 'RUNNING', 'WAITING', 'CANCELLING')";

  public static JobState parse(String text) {
    try {
      return valueOf(text.trim().toUpperCase(Locale.ROOT));
    } catch (RuntimeException e) {
      throw new IllegalArgumentException("unknown job state '" + text + "'; expected one of "
          + Arrays.stream(values()).map(Enum::name).collect(Collectors.joining(", ")));
    }
  }
}
