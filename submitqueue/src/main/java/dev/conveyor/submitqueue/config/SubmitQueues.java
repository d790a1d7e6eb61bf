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
import java.util.function.Function;

/**
 * The queues SubmitQueue serves, from the same {@code queues.properties} as Runway's, with these
 * per-queue settings beside Runway's:
 *
 * <pre>
 * queue.app.build-command = ./ci/test.sh        # run in each speculative tree (bash -c)
 * queue.app.verify = tip                       # tip, or each-commit (refuse changes that land several commits)
 * queue.app.build-runner = local               # local (build-command here) or external (the team's CI); default local
 * queue.app.required-checks = unit,lint         # external: checks CI must report passed; default ci
 * queue.app.build-timeout = 30m                 # s, m or h; default 30m
 * queue.app.build-budget = 4                    # builds at once; default 4
 * queue.app.conflict-analyzer = paths           # paths (changed-file overlap), serial or targets; default paths
 * queue.app.targets-command = ./affected.sh     # targets: prints the change's affected targets (see TargetsCommand)
 * queue.app.success-prior = 0.8                 # prior that a change passes and merges; default 0.8
 * queue.app.batch-size = 5                      # requests built and merged together; default 1 (no batching)
 * queue.app.batch-wait = 10s                    # how long a batch waits to fill on a quiet queue; default 0s
 * queue.app.build-retries = 1                   # runs of a failed build before it counts (flaky); default 0
 * queue.app.build-sandbox = auto                # auto (bubblewrap if installed), bwrap (required) or none
 * queue.app.build-network = false               # whether builds reach the network; default false
 * queue.app.build-read-only-paths = /opt/jdk    # more host paths builds may read (comma separated)
 * queue.app.build-env.GRADLE_OPTS = -Xmx2g      # the build's environment, beside PATH, HOME and LANG
 * queue.app.build-env.NPM_TOKEN = ${env:NPM_TOKEN}  # from the server's environment: a secret, masked in logs
 * queue.app.webhook-url = https://ci.example/hooks   # events POSTed, signed (see notify.Webhook)
 * queue.app.post-merge-command = ./ci/smoke.sh  # run on every commit that lands; a failure pauses the queue
 * </pre>
 */
public final class SubmitQueues {
  /** Per-queue settings read here; {@code build-env.*} stands for every {@code build-env.<KEY>}. */
  public static final Set<String> SETTINGS = Set.of("build-command", "build-timeout", "build-budget",
      "conflict-analyzer", "success-prior", "batch-size", "batch-wait", "build-retries", "build-sandbox", "build-network", "build-read-only-paths", "build-env.*", "build-runner", "required-checks", "webhook-url", "webhook-secret-file",
      "webhook-secret-env", "verify", "targets-command", "targets-timeout", "post-merge-command");
  private static final java.util.regex.Pattern FROM_ENV = java.util.regex.Pattern.compile("\\$\\{env:([^}]*)}");

  private final RunwayQueues runway;
  private final Map<String, SubmitQueueConfig> byName;
  private final Map<String, dev.conveyor.submitqueue.notify.Webhook> webhooks;
  private final Map<String, TargetsCommand> targets;
  private final Map<String, String> postMerge;

  public SubmitQueues(RunwayQueues runway, Collection<SubmitQueueConfig> queues) {
    this(runway, queues, Map.of());
  }

  /** With {@code webhooks} by queue name (queues without one are left out). */
  public SubmitQueues(RunwayQueues runway, Collection<SubmitQueueConfig> queues,
      Map<String, dev.conveyor.submitqueue.notify.Webhook> webhooks) {
    this(runway, queues, webhooks, Map.of(), Map.of());
  }

  /** With per-queue webhooks, targets commands and post-merge commands, by queue name. */
  private SubmitQueues(RunwayQueues runway, Collection<SubmitQueueConfig> queues,
      Map<String, dev.conveyor.submitqueue.notify.Webhook> webhooks, Map<String, TargetsCommand> targets,
      Map<String, String> postMerge) {
    this.webhooks = Map.copyOf(webhooks);
    this.targets = Map.copyOf(targets);
    this.postMerge = Map.copyOf(postMerge);
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
    return parse(settings, base, System::getenv);
  }

  /** As {@link #parse(Properties, Path)}, with {@code ${env:NAME}} values looked up in {@code environment}. */
  public static SubmitQueues parse(Properties settings, Path base, Function<String, String> environment) {
    Properties props = RunwayQueues.queueSettings(settings, base);
    RunwayQueues runway = RunwayQueues.parse(props, SETTINGS, environment);
    List<SubmitQueueConfig> queues = runway.all().stream()
        .filter(q -> props.getProperty(key(q, "build-command")) != null || props.getProperty(key(q, "build-runner")) != null)
        .map(q -> parse(q, props, environment)).toList();
    Map<String, TargetsCommand> targets = new TreeMap<>();
    for (SubmitQueueConfig q : queues) {
      String command = props.getProperty(key(q.git(), "targets-command"));
      if ((q.analyzer() == SubmitQueueConfig.ConflictAnalyzer.TARGETS) != (command != null)) {
        throw new IllegalArgumentException(command == null
            ? key(q.git(), "conflict-analyzer") + " = targets needs " + key(q.git(), "targets-command")
            : key(q.git(), "targets-command") + " applies only with conflict-analyzer = targets");
      }
      if (command != null) {
        targets.put(q.name(), new TargetsCommand(command.trim(), duration(key(q.git(), "targets-timeout"),
            props.getProperty(key(q.git(), "targets-timeout"), "5m"))));
      }
    }
    Map<String, dev.conveyor.submitqueue.notify.Webhook> hooks = new TreeMap<>();
    for (QueueConfig q : runway.all()) {
      var hook = dev.conveyor.submitqueue.notify.Webhook.parse(q.name(), props, environment);
      if (hook != null) {
        hooks.put(q.name(), hook);
      }
    }
    Map<String, String> postMerge = new TreeMap<>();
    for (SubmitQueueConfig q : queues) {
      String command = props.getProperty(key(q.git(), "post-merge-command"));
      if (command != null && !command.isBlank()) {
        postMerge.put(q.name(), command.trim());
      }
    }
    return new SubmitQueues(runway, queues, hooks, targets, postMerge);
  }

  private static SubmitQueueConfig parse(QueueConfig q, Properties p, Function<String, String> environment) {
    String analyzer = p.getProperty(key(q, "conflict-analyzer"), "paths").trim();
    SubmitQueueConfig.ConflictAnalyzer kind;
    try {
      kind = SubmitQueueConfig.ConflictAnalyzer.valueOf(analyzer.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key(q, "conflict-analyzer") + ": '" + analyzer
          + "' is not paths, serial or targets");
    }
    String command = p.getProperty(key(q, "build-command"));
    return new SubmitQueueConfig(q, command == null ? null : command.trim(),
        duration(key(q, "build-timeout"), p.getProperty(key(q, "build-timeout"), "30m")),
        number(key(q, "build-budget"), p.getProperty(key(q, "build-budget"), "4")), kind,
        prior(key(q, "success-prior"), p.getProperty(key(q, "success-prior"), "0.8")), isolation(q, p, environment),
        number(key(q, "batch-size"), p.getProperty(key(q, "batch-size"), "1")),
        duration(key(q, "batch-wait"), p.getProperty(key(q, "batch-wait"), "0s")),
        number(key(q, "build-retries"), p.getProperty(key(q, "build-retries"), "0")), runner(q, p), verify(q, p));
  }

  private static SubmitQueueConfig.Verify verify(QueueConfig q, Properties p) {
    String v = p.getProperty(key(q, "verify"), "tip").trim().toLowerCase(Locale.ROOT);
    return switch (v) {
      case "tip" -> SubmitQueueConfig.Verify.TIP;
      case "each-commit" -> SubmitQueueConfig.Verify.EACH_COMMIT;
      default -> throw new IllegalArgumentException(key(q, "verify") + ": '" + v + "' is not tip or each-commit");
    };
  }

  private static SubmitQueueConfig.Runner runner(QueueConfig q, Properties p) {
    String kind = p.getProperty(key(q, "build-runner"), "local").trim().toLowerCase(Locale.ROOT);
    String checks = p.getProperty(key(q, "required-checks"));
    if (kind.equals("local")) {
      if (checks != null) {
        throw new IllegalArgumentException(key(q, "required-checks") + " applies only with build-runner = external");
      }
      return SubmitQueueConfig.Runner.LOCAL;
    }
    if (!kind.equals("external")) {
      throw new IllegalArgumentException(key(q, "build-runner") + ": '" + kind + "' is not local or external");
    }
    for (String local : List.of("build-command", "build-sandbox", "build-network", "build-read-only-paths",
        "build-retries")) {
      if (p.getProperty(key(q, local)) != null) {
        throw new IllegalArgumentException(key(q, local) + " applies only with build-runner = local (the team's CI"
            + " builds queue '" + q.name() + "')");
      }
    }
    for (String name : p.stringPropertyNames()) {
      if (name.startsWith(key(q, "build-env."))) {
        throw new IllegalArgumentException(name + " applies only with build-runner = local (the team's CI builds"
            + " queue '" + q.name() + "')");
      }
    }
    List<String> names = new java.util.ArrayList<>();
    for (String c : (checks == null ? SubmitQueueConfig.Runner.DEFAULT_CHECK : checks).split(",")) {
      if (!c.isBlank()) {
        names.add(c.trim());
      }
    }
    try {
      return SubmitQueueConfig.Runner.external(names);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key(q, "required-checks") + ": " + e.getMessage(), e);
    }
  }

  private static BuildIsolation isolation(QueueConfig q, Properties p, Function<String, String> environment) {
    String sandbox = p.getProperty(key(q, "build-sandbox"), "auto").trim();
    BuildIsolation.Sandbox mode;
    try {
      mode = BuildIsolation.Sandbox.valueOf(sandbox.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(key(q, "build-sandbox") + ": '" + sandbox + "' is not auto, bwrap or none");
    }
    String network = p.getProperty(key(q, "build-network"), "false").trim().toLowerCase(Locale.ROOT);
    if (!network.equals("true") && !network.equals("false")) {
      throw new IllegalArgumentException(key(q, "build-network") + ": '" + network + "' is not true or false");
    }
    List<Path> readOnly = new java.util.ArrayList<>();
    for (String item : p.getProperty(key(q, "build-read-only-paths"), "").split(",")) {
      String path = item.trim();
      if (path.isEmpty()) {
        continue;
      }
      Path parsed;
      try {
        parsed = Path.of(path);
      } catch (java.nio.file.InvalidPathException e) {
        throw new IllegalArgumentException(key(q, "build-read-only-paths") + ": '" + path + "' is not a path");
      }
      if (!parsed.isAbsolute() || !parsed.normalize().equals(parsed)) {
        throw new IllegalArgumentException(key(q, "build-read-only-paths") + ": '" + path
            + "' must be an absolute path without '.' or '..'");
      }
      readOnly.add(parsed);
    }
    Map<String, String> env = new TreeMap<>();
    Set<String> secrets = new java.util.TreeSet<>();
    String prefix = key(q, "build-env.");
    for (String name : p.stringPropertyNames()) {
      if (!name.startsWith(prefix)) {
        continue;
      }
      String var = name.substring(prefix.length());
      if (!BuildIsolation.ENV_NAME.matcher(var).matches() || var.equals("HOME")) {
        throw new IllegalArgumentException(name + ": '" + var + "' is not an environment variable name a build may"
            + " declare ([A-Za-z_][A-Za-z0-9_]*, not HOME)");
      }
      String value = p.getProperty(name).trim();
      java.util.regex.Matcher m = FROM_ENV.matcher(value);
      if (m.matches()) {
        String from = environment.apply(m.group(1));
        if (from == null) {
          throw new IllegalArgumentException(name + ": takes ${env:" + m.group(1) + "}, but " + m.group(1)
              + " is not set in the server's environment");
        }
        value = from;
        secrets.add(var);
      }
      env.put(var, value);
    }
    try {
      return new BuildIsolation(mode, network.equals("true"), readOnly, env, secrets);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException(prefix + "*: " + e.getMessage(), e);
    }
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

  /** The queue's webhook, if it has one. */
  public Optional<dev.conveyor.submitqueue.notify.Webhook> webhook(String queue) {
    return Optional.ofNullable(webhooks.get(queue));
  }

  /** The command run on every commit a batch puts on the queue's target ({@code post-merge-command}). */
  public Optional<String> postMerge(String queue) {
    return Optional.ofNullable(postMerge.get(queue));
  }

  /** A copy with {@code command} verifying every commit that lands on {@code queue}'s target. */
  public SubmitQueues withPostMerge(String queue, String command) {
    Map<String, String> all = new TreeMap<>(postMerge);
    all.put(queue, command);
    return new SubmitQueues(runway, byName.values(), webhooks, targets, all);
  }

  /** How the queue finds a change's affected targets ({@code conflict-analyzer = targets}). */
  public Optional<TargetsCommand> targets(String queue) {
    return Optional.ofNullable(targets.get(queue));
  }

  /** A copy with {@code command} finding {@code queue}'s affected targets. */
  public SubmitQueues withTargets(String queue, TargetsCommand command) {
    Map<String, TargetsCommand> all = new TreeMap<>(targets);
    all.put(queue, command);
    return new SubmitQueues(runway, byName.values(), webhooks, all, postMerge);
  }

  /** A copy with {@code hook} as {@code queue}'s webhook. */
  public SubmitQueues withWebhook(String queue, dev.conveyor.submitqueue.notify.Webhook hook) {
    Map<String, dev.conveyor.submitqueue.notify.Webhook> all = new TreeMap<>(webhooks);
    all.put(queue, hook);
    return new SubmitQueues(runway, byName.values(), all, targets, postMerge);
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
