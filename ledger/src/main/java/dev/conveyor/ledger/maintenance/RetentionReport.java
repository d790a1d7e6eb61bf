package dev.conveyor.ledger.maintenance;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/** One retention run (or dry run): per task, its age and the rows deleted (or due) per table. */
public record RetentionReport(Instant at, boolean dryRun, List<TaskReport> tasks, Duration took) {
  public RetentionReport {
    tasks = List.copyOf(tasks);
  }

  /** A task's rows per table; {@code failure} when it stopped early (what it deleted before stays deleted). */
  public record TaskReport(String task, Duration age, Map<String, Long> rows, Optional<String> failure) {
    public TaskReport {
      rows = java.util.Collections.unmodifiableMap(new TreeMap<>(rows));
    }

    public long total() {
      return rows.values().stream().mapToLong(Long::longValue).sum();
    }
  }

  /** Rows per table over every task. */
  public Map<String, Long> byTable() {
    Map<String, Long> out = new TreeMap<>();
    tasks.forEach(t -> t.rows().forEach((table, n) -> out.merge(table, n, Long::sum)));
    return out;
  }

  public boolean failed() {
    return tasks.stream().anyMatch(t -> t.failure().isPresent());
  }

  /** One line for the log: {@code jobs=12 job_results=30 …}, and the failures. */
  public String summary() {
    StringBuilder sb = new StringBuilder();
    byTable().forEach((table, n) -> sb.append(sb.isEmpty() ? "" : " ").append(table).append('=').append(n));
    if (sb.isEmpty()) {
      sb.append("nothing");
    }
    tasks.stream().filter(t -> t.failure().isPresent())
        .forEach(t -> sb.append("; ").append(t.task()).append(" stopped: ").append(t.failure().get()));
    return sb.toString();
  }
}
