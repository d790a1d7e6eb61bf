package dev.conveyor.runway.queue;

import dev.conveyor.api.base.Strategy;
import java.io.IOException;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Properties;
import java.util.TreeMap;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * The merge queues Runway serves, usually read from {@code <data-dir>/queues.properties}:
 *
 * <pre>
 * queue.app.remote = /srv/git/app.git
 * queue.app.branch = main
 * queue.app.strategy = REBASE
 * queue.app.push-attempts = 3
 * queue.app.remotes.fork = https://git.example.com/fork/app.git
 * queue.app.remote-auth = bearer      # and the other remote-* keys: see {@link RemoteAuth}
 * </pre>
 */
public final class RunwayQueues {
  private static final Pattern KEY = Pattern.compile("queue\\.([A-Za-z0-9_-]+)\\.(remote|branch|strategy|push-attempts"
      + "|remotes\\.([A-Za-z0-9][A-Za-z0-9_.-]*))");

  /** Another part's setting: {@code queue.<q>.<setting>}, or {@code queue.<q>.<setting>.<key>} for a family. */
  private static final Pattern OTHER = Pattern.compile("queue\\.([A-Za-z0-9_-]+)\\.([a-z-]+)(\\..+)?");

  private final Map<String, QueueConfig> byName;

  public RunwayQueues(Collection<QueueConfig> queues) {
    Map<String, QueueConfig> map = new TreeMap<>();
    for (QueueConfig q : queues) {
      if (map.put(q.name(), q) != null) {
        throw new IllegalArgumentException("queue '" + q.name() + "' is configured twice");
      }
    }
    this.byName = Map.copyOf(map);
  }

  public static RunwayQueues of(QueueConfig... queues) {
    return new RunwayQueues(java.util.List.of(queues));
  }

  public static RunwayQueues load(Path file) throws IOException {
    return load(file, java.util.Set.of());
  }

  /**
   * Reads {@code file}; {@code otherSettings} are per-queue settings that another part of Conveyor
   * (SubmitQueue) reads from the same file, so they are not reported as unknown here.
   */
  public static RunwayQueues load(Path file, java.util.Set<String> otherSettings) throws IOException {
    Properties props = queueSettings(read(file), file.toAbsolutePath().getParent());
    try {
      return parse(props, otherSettings);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(file + ": " + e.getMessage(), e);
    }
  }

  /**
   * The {@code queue.*} keys of {@code props} (a file may hold other settings beside them), with
   * relative local remotes resolved against {@code base}.
   */
  public static Properties queueSettings(Properties props, Path base) {
    Properties out = new Properties();
    for (String key : props.stringPropertyNames()) {
      if (!key.startsWith("queue.")) {
        continue;
      }
      String value = props.getProperty(key);
      out.setProperty(key, key.endsWith(".remote") || key.contains(".remotes.") ? localPath(value.trim(), base) : value);
    }
    return out;
  }

  /**
   * A relative local path names a repository relative to {@code base} (the queues file's directory);
   * URLs ({@code https://…}, {@code ssh://…}, {@code git@host:path}) and absolute paths are kept.
   */
  public static String localPath(String remote, Path base) {
    if (remote.contains("://") || remote.matches("[^/]+@[^/]+:.*") || Path.of(remote).isAbsolute()) {
      return remote;
    }
    return base.resolve(remote).normalize().toString();
  }

  public static Properties read(Path file) throws IOException {
    Properties props = new Properties();
    try (Reader r = Files.newBufferedReader(file, StandardCharsets.UTF_8)) {
      props.load(r);
    }
    return props;
  }

  static RunwayQueues parse(Properties props) {
    return parse(props, java.util.Set.of());
  }

  public static RunwayQueues parse(Properties props, java.util.Set<String> otherSettings) {
    return parse(props, otherSettings, System::getenv);
  }

  /** As {@link #parse(Properties, java.util.Set)}, with {@code *-env} secrets looked up in {@code environment}. */
  public static RunwayQueues parse(Properties props, java.util.Set<String> otherSettings,
      java.util.function.Function<String, String> environment) {
    java.util.Set<String> known = new java.util.HashSet<>(otherSettings);
    known.addAll(RemoteAuth.SETTINGS);
    otherSettings = known;
    record Draft(Map<String, String> remotes, Map<String, String> settings) {}
    Map<String, Draft> drafts = new TreeMap<>();
    for (String key : props.stringPropertyNames()) {
      Matcher m = KEY.matcher(key);
      Matcher other = OTHER.matcher(key);
      if (!m.matches() && other.matches()
          && otherSettings.contains(other.group(3) == null ? other.group(2) : other.group(2) + ".*")) {
        drafts.computeIfAbsent(other.group(1), n -> new Draft(new TreeMap<>(), new TreeMap<>()));
        continue;
      }
      if (!m.matches()) {
        throw new IllegalArgumentException("unknown setting '" + key + "'; expected queue.<name>.remote, .branch,"
            + " .strategy, .push-attempts or .remotes.<alias>"
            + (otherSettings.isEmpty() ? "" : ", or one of " + new java.util.TreeSet<>(otherSettings)));
      }
      Draft d = drafts.computeIfAbsent(m.group(1), n -> new Draft(new TreeMap<>(), new TreeMap<>()));
      String value = props.getProperty(key).trim();
      if (m.group(3) != null) {
        d.remotes().put(m.group(3), value);
      } else if (m.group(2).equals("remote")) {
        d.remotes().put(QueueConfig.ORIGIN, value);
      } else {
        d.settings().put(m.group(2), value);
      }
    }
    return new RunwayQueues(drafts.entrySet().stream().map(e -> {
      Map<String, String> s = e.getValue().settings();
      return new QueueConfig(e.getKey(), e.getValue().remotes(), s.getOrDefault("branch", "main"),
          strategy(e.getKey(), s.getOrDefault("strategy", "REBASE")),
          pushAttempts(e.getKey(), s.getOrDefault("push-attempts", String.valueOf(QueueConfig.DEFAULT_PUSH_ATTEMPTS))),
          RemoteAuth.parse(e.getKey(), props, environment));
    }).toList());
  }

  private static Strategy strategy(String queue, String value) {
    try {
      return Strategy.valueOf(value.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("queue." + queue + ".strategy: '" + value
          + "' is not one of REBASE, SQUASH_REBASE, MERGE, PROMOTE");
    }
  }

  private static int pushAttempts(String queue, String value) {
    try {
      return Integer.parseInt(value);
    } catch (NumberFormatException e) {
      throw new IllegalArgumentException("queue." + queue + ".push-attempts: '" + value + "' is not a number");
    }
  }

  public Optional<QueueConfig> find(String name) {
    return Optional.ofNullable(byName.get(name));
  }

  public Collection<QueueConfig> all() {
    return byName.values();
  }

  public java.util.Set<String> names() {
    return new java.util.TreeSet<>(byName.keySet());
  }
}
