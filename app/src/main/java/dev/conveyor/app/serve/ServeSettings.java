package dev.conveyor.app.serve;

import dev.conveyor.app.cli.ErrorReporter.UserError;
import dev.conveyor.runway.queue.RunwayQueues;
import dev.conveyor.submitqueue.config.SubmitQueues;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Locale;
import java.util.Map;
import java.util.Properties;
import java.util.stream.Collectors;

/**
 * Everything {@code conveyor serve} can be told, from one properties file
 * ({@code <data-dir>/conveyor.properties} or {@code --config FILE}) under command-line flags, over
 * defaults. The same file holds the merge queue's {@code queue.<name>.*} settings. {@link #template()}
 * prints every key with its default and meaning, so the documentation cannot drift from the code.
 */
public record ServeSettings(Map<Key, String> values, Path dataDir, Path source, SubmitQueues queues) {
  public static final String FILE_NAME = "conveyor.properties";

  /** Every node-level key, its default, and what it means. */
  public enum Key {
    LEDGER("ledger", "sqlite:<data-dir>/conveyor.db",
        "the ledger: sqlite:<file>, or postgresql://user@host:5432/db to share it between nodes"),
    BIND("bind", "127.0.0.1", "address of the gRPC and HTTP listeners"),
    GRPC_PORT("grpc-port", "7420", "gRPC port (public, worker and gateway services, health); 0 picks a free one"),
    HTTP_PORT("http-port", "7421", "status page at / and Prometheus metrics at /metrics; 0 picks a free one, -1 off"),
    AUTH("auth", "local", "local (token generated into the data directory), oidc (bearer JWTs), none (loopback only)"),
    TOKEN_FILE("token-file", "<data-dir>/local-token", "with auth = local, the token every client presents (made"
        + " if missing); give every node of a fleet the same file so one token reaches any of them"),
    OIDC_ISSUER("oidc-issuer", "",
        "OIDC issuer URL, required with auth = oidc; must equal the discovery document's issuer exactly"),
    OIDC_AUDIENCE("oidc-audience", "conveyor", "expected audience of OIDC tokens"),
    CAPTURE_WORKER("capture-worker", "true",
        "run a capture worker in this process (over gRPC to the bound address, with an in-memory worker credential)"),
    CAPTURE_PARALLELISM("capture-parallelism", "2", "file groups the in-process capture worker runs at once"),
    MAX_FILES_PER_GROUP("max-files-per-group", "16", "planner: at most this many files per file-group job"),
    MAX_BYTES_PER_GROUP("max-bytes-per-group", "268435456", "planner: at most this many bytes per file-group job"),
    BUILD_PARALLELISM("build-parallelism", "2", "builds the in-process build worker runs at once; 0 runs none"),
    SHUTDOWN_GRACE("shutdown-grace", "20s", "on SIGTERM, how long in-flight work may finish before it is handed back"),
    QUEUES_FILE("queues-file", "<data-dir>/queues.properties",
        "more queue.<name>.* settings, read if the file exists (older layout; they may also live in this file)"),
    BUILD_LOG_HEAD("build-log-head", "262144",
        "characters kept from the start of each build's output (the middle is dropped and counted)"),
    BUILD_LOG_TAIL("build-log-tail", "262144", "characters kept from the end of each build's output"),
    MAINTENANCE_LEASE("maintenance-lease", "30s",
        "one node leads maintenance (reaper, retention); if it dies, another takes over after this long"),
    RETENTION_INTERVAL("retention.interval", "10m", "how often the maintenance leader runs retention"),
    RETENTION_BATCH_SIZE("retention.batch-size", "500",
        "rows deleted per transaction (1 to 5000), so retention never holds locks for long"),
    RETENTION_JOBS("retention.jobs", "7d", "finished job trees and their results, once the tree's last job ended"
        + " this long ago (a running tree's finished children stay; so do builds a live merge-queue batch names)."
        + " Ages: 90s, 30m, 12h, 7d, or forever"),
    RETENTION_RESULT_CHUNKS("retention.result-chunks", "1h",
        "staged result chunks of a job that ended, or staged longer ago than this (orphans of a dead attempt)"),
    RETENTION_MESSAGES("retention.messages", "7d", "stream messages every consumer group has committed"),
    RETENTION_DEAD_LETTERS("retention.dead-letters", "30d", "dead letters (<topic>.dlq), whether re-driven or not"),
    RETENTION_EFFECT_CLAIMS("retention.effect-claims", "30d",
        "settled effect claims; at least retention.messages and retention.dead-letters, or a redelivered message"
            + " could repeat its effect"),
    RETENTION_SIGNALS("retention.signals", "30d", "signals of the Durability service's streams, by age (a replay"
        + " from below reports the gap), and cursors idle this long with no live lease"),
    RETENTION_AUDIT("retention.audit", "90d", "the audit log of actions taken from the status page"),
    RETENTION_REQUESTS("retention.requests", "30d", "finished land requests with their history"),
    RETENTION_BATCHES("retention.batches", "30d", "finished batches no stored request names"),
    RETENTION_PATHS("retention.paths", "30d", "ended speculative paths of finished batches"),
    RETENTION_BUILD_LOGS("retention.build-logs", "14d",
        "output of ended builds that no live batch shows, once no output came for this long");

    final String name;
    final String defaultValue;
    final String meaning;

    Key(String name, String defaultValue, String meaning) {
      this.name = name;
      this.defaultValue = defaultValue;
      this.meaning = meaning;
    }

    public String key() {
      return name;
    }

    static Key of(String name) {
      for (Key k : values()) {
        if (k.name.equals(name)) {
          return k;
        }
      }
      return null;
    }
  }

  /**
   * Reads {@code configFile} (or {@code <dataDir>/conveyor.properties} when null and present) and
   * applies {@code flags} over it. Unknown keys and bad values are one-line errors naming the key.
   */
  public static ServeSettings load(Path configFile, Path dataDir, Map<Key, String> flags) throws IOException {
    Path file = configFile != null ? configFile : dataDir.resolve(FILE_NAME);
    Properties props = new Properties();
    if (configFile != null && !Files.exists(configFile)) {
      throw new UserError("no configuration file " + configFile,
          "'conveyor serve --print-config' prints one with every key and its default");
    }
    boolean present = Files.exists(file);
    if (present) {
      props = RunwayQueues.read(file);
    }
    Map<Key, String> values = new LinkedHashMap<>();
    for (String name : props.stringPropertyNames()) {
      if (name.startsWith("queue.")) {
        continue;
      }
      Key key = Key.of(name);
      if (key == null) {
        throw new UserError(file + ": unknown key '" + name + "'", "known keys: "
            + Arrays.stream(Key.values()).map(Key::key).collect(Collectors.joining(", ")) + ", and queue.<name>.*");
      }
      values.put(key, props.getProperty(name).trim());
    }
    values.putAll(flags);
    Path base = present ? file.toAbsolutePath().getParent() : Path.of("").toAbsolutePath();
    SubmitQueues queues;
    try {
      queues = queues(props, base, values.get(Key.QUEUES_FILE), dataDir);
    } catch (IllegalArgumentException e) {
      throw new UserError(e.getMessage(), "see 'conveyor serve --print-config' for the queue.<name>.* keys");
    }
    ServeSettings s = new ServeSettings(Map.copyOf(values), dataDir, present ? file : null, queues);
    s.validate();
    return s;
  }

  private static SubmitQueues queues(Properties props, Path base, String queuesFile, Path dataDir) throws IOException {
    Properties all = new Properties();
    Path extra = queuesFile != null ? Path.of(queuesFile) : dataDir.resolve("queues.properties");
    if (queuesFile != null && !Files.exists(extra)) {
      throw new UserError("queues-file " + extra + " does not exist", "fix the path, or put the queue.* keys in "
          + FILE_NAME);
    }
    if (Files.exists(extra)) {
      all.putAll(RunwayQueues.queueSettings(RunwayQueues.read(extra), extra.toAbsolutePath().getParent()));
    }
    all.putAll(RunwayQueues.queueSettings(props, base)); // this file's keys win over the queues file's
    if (all.isEmpty()) {
      return null;
    }
    return SubmitQueues.parse(all, base);
  }

  private void validate() {
    grpcPort();
    httpPort();
    auth();
    captureParallelism();
    limits();
    buildParallelism();
    shutdownGrace();
    bool(Key.CAPTURE_WORKER);
    maintenance();
  }

  /** Retention ages, the maintenance lease and build-log bounds. */
  public MaintenanceSettings maintenance() {
    return MaintenanceSettings.from(this);
  }

  public String get(Key key) {
    String v = values.get(key);
    if (v != null) {
      return v;
    }
    return switch (key) {
      case TOKEN_FILE -> dataDir.resolve(dev.conveyor.reconcile.auth.LocalToken.FILE_NAME).toString();
      case LEDGER -> {
        String env = System.getenv("CONVEYOR_LEDGER");
        yield env != null && !env.isBlank() ? env : "sqlite:" + dataDir.resolve("conveyor.db");
      }
      case QUEUES_FILE -> dataDir.resolve("queues.properties").toString();
      default -> key.defaultValue;
    };
  }

  public String ledger() {
    return get(Key.LEDGER);
  }

  public String bind() {
    return get(Key.BIND);
  }

  public int grpcPort() {
    return port(Key.GRPC_PORT, 0);
  }

  public int httpPort() {
    return port(Key.HTTP_PORT, -1);
  }

  public ControlPlane.AuthMode auth() {
    String v = get(Key.AUTH);
    try {
      return ControlPlane.AuthMode.valueOf(v.toUpperCase(Locale.ROOT));
    } catch (IllegalArgumentException e) {
      throw bad(Key.AUTH, v, "local, oidc or none");
    }
  }

  public String oidcIssuer() {
    String v = get(Key.OIDC_ISSUER);
    return v.isBlank() ? null : v;
  }

  public String oidcAudience() {
    return get(Key.OIDC_AUDIENCE);
  }

  public boolean captureWorker() {
    return bool(Key.CAPTURE_WORKER);
  }

  public int captureParallelism() {
    return atLeast(Key.CAPTURE_PARALLELISM, 1);
  }

  public dev.conveyor.reconcile.planning.CapturePlanner.Limits limits() {
    long bytes;
    try {
      bytes = Long.parseLong(get(Key.MAX_BYTES_PER_GROUP));
    } catch (NumberFormatException e) {
      throw bad(Key.MAX_BYTES_PER_GROUP, get(Key.MAX_BYTES_PER_GROUP), "a number of bytes");
    }
    if (bytes < 1) {
      throw bad(Key.MAX_BYTES_PER_GROUP, get(Key.MAX_BYTES_PER_GROUP), "at least 1");
    }
    return new dev.conveyor.reconcile.planning.CapturePlanner.Limits(atLeast(Key.MAX_FILES_PER_GROUP, 1), bytes);
  }

  public int buildParallelism() {
    return atLeast(Key.BUILD_PARALLELISM, 0);
  }

  public Duration shutdownGrace() {
    String v = get(Key.SHUTDOWN_GRACE).toLowerCase(Locale.ROOT);
    try {
      if (v.endsWith("ms")) {
        return Duration.ofMillis(Long.parseLong(v.substring(0, v.length() - 2)));
      }
      long n = Long.parseLong(v.substring(0, v.length() - 1));
      return switch (v.charAt(v.length() - 1)) {
        case 's' -> Duration.ofSeconds(n);
        case 'm' -> Duration.ofMinutes(n);
        default -> throw new NumberFormatException();
      };
    } catch (NumberFormatException | StringIndexOutOfBoundsException e) {
      throw bad(Key.SHUTDOWN_GRACE, v, "a duration such as 500ms, 20s or 2m");
    }
  }

  /** The node's settings as a {@code ControlPlane} configuration. */
  public ControlPlane.Config controlPlane() {
    return new ControlPlane.Config(ledger(), dataDir, bind(), grpcPort(), auth(), oidcIssuer(), oidcAudience(),
        captureWorker(), captureParallelism(), limits(), queues, buildParallelism(), httpPort(), shutdownGrace(),
        maintenance(), Path.of(get(Key.TOKEN_FILE)));
  }

  /** Every key with its default and meaning, as a commented properties file. */
  public static String template() {
    StringBuilder sb = new StringBuilder("# conveyor.properties: settings of 'conveyor serve'. Every key is optional;\n"
        + "# flags override this file, which overrides the defaults shown. Lives in the data directory\n"
        + "# (or pass --config FILE).\n\n");
    for (Key k : Key.values()) {
      sb.append("# ").append(k.meaning).append('\n').append("#").append(k.name).append(" = ").append(k.defaultValue)
          .append("\n\n");
    }
    sb.append("# Merge queues (Runway; SubmitQueue for queues with a build command), any number of them:\n"
        + "#queue.app.remote = /srv/git/app.git        # repository of the target branch (path or URL)\n"
        + "#queue.app.branch = main\n"
        + "#queue.app.strategy = REBASE                # REBASE, SQUASH_REBASE, MERGE or PROMOTE\n"
        + "#queue.app.push-attempts = 3\n"
        + "#queue.app.remotes.fork = /srv/git/fork.git # more remotes change URIs may name\n"
        + "#queue.app.build-command = ./ci/test.sh     # run in each speculative tree (bash -c)\n"
        + "#queue.app.build-timeout = 30m\n"
        + "#queue.app.build-budget = 4                 # speculative builds at once\n"
        + "#queue.app.conflict-analyzer = paths        # paths or serial\n"
        + "#queue.app.success-prior = 0.8\n"
        + "#queue.app.build-sandbox = auto             # auto (bubblewrap if installed), bwrap (required) or none\n"
        + "#queue.app.build-network = false            # whether builds may reach the network\n"
        + "#queue.app.build-read-only-paths =          # more host paths builds may read, comma separated (never\n"
        + "#                                           # the data directory), e.g. /opt/jdk,/var/cache/m2\n"
        + "#queue.app.build-env.GRADLE_OPTS = -Xmx2g   # a build's environment: PATH, HOME, LANG and these keys\n"
        + "#queue.app.build-env.NPM_TOKEN = ${env:NPM_TOKEN}  # from serve's environment; a secret, masked in logs\n");
    return sb.toString();
  }

  /** The effective settings, each with where it came from. */
  public String effective() {
    StringBuilder sb = new StringBuilder("# effective settings"
        + (source == null ? " (no configuration file; defaults and flags)" : " from " + source) + "\n");
    for (Key k : Key.values()) {
      String v = get(k);
      if (k == Key.LEDGER) {
        v = v.replaceAll("://([^:/@]+):[^@]*@", "://$1:***@");
      }
      sb.append(k.name).append(" = ").append(v).append(values.containsKey(k) ? "" : "    # default").append('\n');
    }
    sb.append("# queues: ").append(queues == null ? "none (merge queue off)" : queues.runway().names()).append('\n');
    if (queues != null) {
      for (var q : queues.all()) {
        var iso = q.isolation();
        sb.append("# queue ").append(q.name()).append(" builds: sandbox ")
            .append(iso.sandbox().name().toLowerCase(Locale.ROOT)).append(", network ")
            .append(iso.network() ? "on" : "off").append(", read-only paths ").append(iso.readOnlyPaths())
            .append(", environment ").append(iso.env().keySet().stream()
                .map(k -> iso.secretKeys().contains(k) ? k + " (secret)" : k).toList()).append('\n');
      }
    }
    return sb.toString();
  }

  private int port(Key key, int min) {
    int p = atLeast(key, min);
    if (p > 65535) {
      throw bad(key, get(key), "a port up to 65535");
    }
    return p;
  }

  int atLeast(Key key, int min) {
    String v = get(key);
    try {
      int n = Integer.parseInt(v.trim());
      if (n < min) {
        throw bad(key, v, "at least " + min);
      }
      return n;
    } catch (NumberFormatException e) {
      throw bad(key, v, "a whole number");
    }
  }

  private boolean bool(Key key) {
    String v = get(key).toLowerCase(Locale.ROOT);
    if (!v.equals("true") && !v.equals("false")) {
      throw bad(key, v, "true or false");
    }
    return v.equals("true");
  }

  UserError bad(Key key, String value, String expected) {
    return new UserError(key.name + " = '" + value + "' is not valid" + (source == null ? "" : " (" + source + ")"),
        "expected " + expected);
  }
}
