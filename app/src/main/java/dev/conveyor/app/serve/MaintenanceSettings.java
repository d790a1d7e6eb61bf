package dev.conveyor.app.serve;

import dev.conveyor.app.cli.ErrorReporter.UserError;
import dev.conveyor.app.serve.ServeSettings.Key;
import dev.conveyor.ledger.maintenance.Maintenance;
import dev.conveyor.submitqueue.build.LogLimits;
import java.time.Duration;
import java.util.Locale;
import java.util.Optional;

/**
 * The {@code retention.*}, {@code maintenance-lease} and {@code build-log-*} settings of a node,
 * checked: every age parses ({@code 90s}, {@code 30m}, {@code 12h}, {@code 7d}, or {@code forever}
 * to keep rows for good), and effect claims outlive what could cause their effect again.
 */
public record MaintenanceSettings(Duration lease, Duration interval, int batchSize, Ages ages, LogLimits buildLog) {
  /** Retention ages; an empty one keeps those rows forever. */
  public record Ages(Optional<Duration> jobs, Optional<Duration> resultChunks, Optional<Duration> messages,
      Optional<Duration> deadLetters, Optional<Duration> effectClaims, Optional<Duration> requests,
      Optional<Duration> batches, Optional<Duration> paths, Optional<Duration> buildLogs,
      Optional<Duration> signals, Optional<Duration> audit) {}

  public Maintenance.Options options() {
    return Maintenance.Options.defaults().withLease(lease).withInterval(interval).withBatchSize(batchSize);
  }

  /** The defaults every key documents. */
  public static MaintenanceSettings defaults() {
    return new MaintenanceSettings(parse(Key.MAINTENANCE_LEASE.defaultValue), parse(Key.RETENTION_INTERVAL.defaultValue),
        Integer.parseInt(Key.RETENTION_BATCH_SIZE.defaultValue), new Ages(age(Key.RETENTION_JOBS.defaultValue),
            age(Key.RETENTION_RESULT_CHUNKS.defaultValue), age(Key.RETENTION_MESSAGES.defaultValue),
            age(Key.RETENTION_DEAD_LETTERS.defaultValue), age(Key.RETENTION_EFFECT_CLAIMS.defaultValue),
            age(Key.RETENTION_REQUESTS.defaultValue), age(Key.RETENTION_BATCHES.defaultValue),
            age(Key.RETENTION_PATHS.defaultValue), age(Key.RETENTION_BUILD_LOGS.defaultValue),
            age(Key.RETENTION_SIGNALS.defaultValue), age(Key.RETENTION_AUDIT.defaultValue)), LogLimits.DEFAULT);
  }

  static MaintenanceSettings from(ServeSettings s) {
    int batch = s.atLeast(Key.RETENTION_BATCH_SIZE, 1);
    if (batch > Maintenance.Options.MAX_BATCH_SIZE) {
      throw s.bad(Key.RETENTION_BATCH_SIZE, s.get(Key.RETENTION_BATCH_SIZE), "at most "
          + Maintenance.Options.MAX_BATCH_SIZE + " rows per transaction");
    }
    Ages ages = new Ages(age(s, Key.RETENTION_JOBS), age(s, Key.RETENTION_RESULT_CHUNKS),
        age(s, Key.RETENTION_MESSAGES), age(s, Key.RETENTION_DEAD_LETTERS), age(s, Key.RETENTION_EFFECT_CLAIMS),
        age(s, Key.RETENTION_REQUESTS), age(s, Key.RETENTION_BATCHES), age(s, Key.RETENTION_PATHS),
        age(s, Key.RETENTION_BUILD_LOGS), age(s, Key.RETENTION_SIGNALS), age(s, Key.RETENTION_AUDIT));
    for (Key cause : new Key[] {Key.RETENTION_MESSAGES, Key.RETENTION_DEAD_LETTERS}) {
      Optional<Duration> claims = ages.effectClaims();
      Optional<Duration> other = age(s, cause);
      if (claims.isPresent() && (other.isEmpty() || claims.get().compareTo(other.get()) < 0)) {
        throw new UserError("retention.effect-claims = " + s.get(Key.RETENTION_EFFECT_CLAIMS) + " is shorter than "
            + cause.key() + " = " + s.get(cause), "a message kept longer than its effect's claim could repeat the"
            + " effect; make retention.effect-claims at least " + s.get(cause));
      }
    }
    LogLimits logs;
    int head = s.atLeast(Key.BUILD_LOG_HEAD, 0);
    int tail = s.atLeast(Key.BUILD_LOG_TAIL, 0);
    try {
      logs = new LogLimits(head, tail);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), "see 'conveyor serve --print-config'");
    }
    return new MaintenanceSettings(positive(s, Key.MAINTENANCE_LEASE), positive(s, Key.RETENTION_INTERVAL), batch,
        ages, logs);
  }

  private static Duration positive(ServeSettings s, Key key) {
    Optional<Duration> d = age(s, key);
    if (d.isEmpty()) {
      throw s.bad(key, s.get(key), "a duration such as 30s, 10m or 1h");
    }
    return d.get();
  }

  private static Optional<Duration> age(ServeSettings s, Key key) {
    String v = s.get(key);
    try {
      return age(v);
    } catch (IllegalArgumentException e) {
      throw s.bad(key, v, "a positive duration such as 90s, 30m, 12h or 7d, or forever");
    }
  }

  private static Optional<Duration> age(String v) {
    return v.trim().equalsIgnoreCase("forever") ? Optional.empty() : Optional.of(parse(v));
  }

  /** {@code 500ms}, {@code 90s}, {@code 30m}, {@code 12h}, {@code 7d}: positive. */
  static Duration parse(String text) {
    return dev.conveyor.app.cli.Durations.parse(text);
  }


  /** For people: {@code 7d}, {@code 12h}, {@code 90s}, or {@code forever}. */
  public static String describe(Optional<Duration> age) {
    if (age.isEmpty()) {
      return "forever";
    }
    Duration d = age.get();
    if (d.toMillis() % 86_400_000 == 0) {
      return d.toDays() + "d";
    }
    if (d.toMillis() % 3_600_000 == 0) {
      return d.toHours() + "h";
    }
    if (d.toMillis() % 60_000 == 0) {
      return d.toMinutes() + "m";
    }
    return d.toMillis() % 1000 == 0 ? d.toSeconds() + "s" : d.toMillis() + "ms";
  }
}
