package dev.conveyor.submitqueue.config;

import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.queue.RunwayQueues;
import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.Set;
import java.util.TreeMap;

/**
 * The queues SubmitQueue serves, from the same {@code queues.properties} as Runway's, with these
 * per-queue settings beside Runway's:
 *
 * <pre>
 * queue.app.build-command = ./ci/test.sh        # run in each speculative tree (bash -c)
 * queue.app.build-timeout = 30m                 # s, m or h; default 30m
 * queue.app.build-budget = 4                    # builds at once; default 4
 * queue.app.conflict-analyzer = paths           # paths (changed-file overlap) or serial; default paths
 * queue.app.success-prior = 0.8                 # prior that a change passes and merges; default 0.8
 * </pre>
 */
public final class SubmitQueues {
  public static final Set<String> SETTINGS =
      Set.of("build-command", "build-timeout", "build-budget", "conflict-analyzer", "success-prior");

  private final RunwayQueues runway;
  private final Map<String, SubmitQueueConfig> byName;

  public SubmitQueues(RunwayQueues runway, Collection<SubmitQueueConfig> queues) {
    this.runway = runway;
    Map<String, SubmitQueueConfig> map = new TreeMap<>();
    queues.forEach(q -> map.put(q.name(), q));
    this.byName = Map.copyOf(map);
  }

  public static SubmitQueues of(SubmitQueueConfig... queues) {
    return new SubmitQueues(new RunwayQueues(List.of(queues).stream().map(SubmitQueueConfig::git).toList()),
        List.of(queues));
  }

  public static SubmitQueues load(Path file) throws IOException {
    try {
      return parse(RunwayQueues.read(file), file.toAbsolutePath().getParent());
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The queues defined by the {@code queue.*} keys of {@code settings} (other keys are left to their
   * owners); relative local remotes resolve against {@code base}.
   */
  public static SubmitQueues parse(Properties settings, Path base) {
    Properties props = RunwayQueues.queueSettings(settings, base);
    RunwayQueues runway = RunwayQueues.parse(props, SETTINGS);
    return new SubmitQueues(runway, runway.all().stream()
        .filter(q -> props.getProperty(key(q, "build-command")) != null)
        .map(q -> parse(q, props)).toList());
  }

  private static SubmitQueueConfig parse(QueueConfig q, Properties p) {
    String analyzer = p.getProperty(key(q, "conflict-analyzer"), "paths").trim();
    SubmitQueueConfig.ConflictAnalyzer kind;
    try {
      kind = SubmitQueueConfig.ConflictAnalyzer.valueOf(analyzer.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key(q, "conflict-analyzer") + ": '" + analyzer + "' is not paths or serial");
    }
    return new SubmitQueueConfig(q, p.getProperty(key(q, "build-command")).trim(),
        duration(key(q, "build-timeout"), p.getProperty(key(q, "build-timeout"), "30m")),
        number(key(q, "build-budget"), p.getProperty(key(q, "build-budget"), "4")), kind,
        prior(key(q, "success-prior"), p.getProperty(key(q, "success-prior"), "0.8")));
  }

  private static String key(QueueConfig q, String setting) {
    return "queue." + q.name() + "." + setting;
  }

  static Duration duration(String key, String value) {
    String v = value.trim().toLowerCase(Locale.ROOT);
    try {
      long n = Long.parseLong(v.substring(0, v.length() - 1));
      return switch (v.charAt(v.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        case 'h' -> Duration.ofHours(n);
        default -> throw new NumberFormatException();
      };
    } catch (RuntimeException e) {
      throw new IllegalArgumentException(key + ": '" + value + "' is not a duration like 90s, 30m or 2h");
    }
  }

  private static int number(String key, String value) {
    try {
      return Integer.parseInt(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + ": '" + value + "' is not a number");
    }
  }

  private static double prior(String key, String value) {
    try {
      return Double.parseDouble(value.trim());
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException(key + ": '" + value + "' is not a number");
    }
  }

  public Optional<SubmitQueueConfig> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  public Collection<SubmitQueueConfig> all() {
    return byName.values();
  }

  public Set<String> names() {
    return new java.util.TreeSet<>(byName.keySet());
  }

  /** The same file's queues as Runway reads them (every queue, with or without a build command). */
  public RunwayQueues runway() {
    return runway;
  }
}
