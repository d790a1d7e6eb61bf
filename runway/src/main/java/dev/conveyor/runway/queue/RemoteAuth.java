package dev.conveyor.runway.queue;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Locale;
import java.util.Properties;
import java.util.function.Function;

/**
 * How Conveyor signs in to a queue's remote ({@code origin}) for fetch, push and staging refs:
 * <pre>
 * queue.app.remote-auth = bearer                 # none (default) | basic | bearer | ssh
 * queue.app.remote-token-file = /etc/conveyor/app.token     # bearer: the token, from a file (read at each use)
 * queue.app.remote-token-env = APP_GIT_TOKEN                # … or from the server's environment
 * queue.app.remote-username = x-access-token     # basic: the user, with remote-password-file or -env
 * queue.app.remote-ssh-key = /etc/conveyor/app_ed25519      # ssh: the private key
 * queue.app.remote-known-hosts = /etc/conveyor/known_hosts  # ssh: required; an unknown host key is refused
 * </pre>
 * A secret's value is never printed: {@link #toString} names where it comes from. A file is read each
 * time a connection opens, so a rotated token is taken without a restart.
 */
public sealed interface RemoteAuth {
  /** The per-queue settings this reads (SubmitQueue and Runway share the queues file). */
  java.util.Set<String> SETTINGS = java.util.Set.of("remote-auth", "remote-token-file", "remote-token-env",
      "remote-username", "remote-password-file", "remote-password-env", "remote-ssh-key", "remote-known-hosts");
  int MAX_SECRET = 16 * 1024;

  RemoteAuth NONE = new None();

  record None() implements RemoteAuth {}

  record Basic(String username, Secret password) implements RemoteAuth {}

  record Bearer(Secret token) implements RemoteAuth {}

  /** {@code key}: a private key file (OpenSSH format); {@code knownHosts}: the only host keys accepted. */
  record Ssh(Path key, Path knownHosts) implements RemoteAuth {}

  /** A secret by where it lives: a file (read at each use) or an environment value (read once, at start). */
  record Secret(String source, Path file, String value) {
    public static Secret ofFile(Path file) {
      return new Secret("file " + file, file, null);
    }

    public static Secret ofEnv(String name, String value) {
      return new Secret("environment " + name, null, value);
    }

    /** The secret now; a missing, empty or oversized file is an IOException naming the file only. */
    public String read() throws IOException {
      if (file == null) {
        return value;
      }
      if (Files.size(file) > MAX_SECRET) {
        throw new IOException("secret file " + file + " is larger than " + MAX_SECRET + " bytes");
      }
      String v = Files.readString(file, StandardCharsets.UTF_8).strip();
      if (v.isEmpty()) {
        throw new IOException("secret file " + file + " is empty");
      }
      return v;
    }

    @Override
    public String toString() {
      return source;
    }
  }

  /** The auth of queue {@code queue} from its {@code remote-*} keys; refused naming the key. */
  static RemoteAuth parse(String queue, Properties p, Function<String, String> environment) {
    String prefix = "queue." + queue + ".";
    String kind = p.getProperty(prefix + "remote-auth", "none").trim().toLowerCase(Locale.ROOT);
    RemoteAuth auth = switch (kind) {
      case "none" -> NONE;
      case "bearer" -> new Bearer(secret(prefix, "remote-token", p, environment));
      case "basic" -> new Basic(required(prefix + "remote-username", p), secret(prefix, "remote-password", p,
          environment));
      case "ssh" -> new Ssh(file(prefix + "remote-ssh-key", p), file(prefix + "remote-known-hosts", p));
      default -> throw new IllegalArgumentException(prefix + "remote-auth: '" + kind
          + "' is not none, basic, bearer or ssh");
    };
    for (String key : SETTINGS) {
      if (!key.equals("remote-auth") && p.getProperty(prefix + key) != null && !uses(auth, key)) {
        throw new IllegalArgumentException(prefix + key + " does not apply with remote-auth = " + kind);
      }
    }
    return auth;
  }

  private static boolean uses(RemoteAuth auth, String key) {
    if (auth instanceof Bearer) {
      return key.startsWith("remote-token");
    }
    if (auth instanceof Basic) {
      return key.equals("remote-username") || key.startsWith("remote-password");
    }
    if (auth instanceof Ssh) {
      return key.equals("remote-ssh-key") || key.equals("remote-known-hosts");
    }
    return false;
  }

  private static Secret secret(String prefix, String name, Properties p, Function<String, String> environment) {
    String file = p.getProperty(prefix + name + "-file");
    String env = p.getProperty(prefix + name + "-env");
    if ((file == null) == (env == null)) {
      throw new IllegalArgumentException(prefix + name + "-file or " + prefix + name + "-env: set exactly one");
    }
    if (file != null) {
      Path f = file(prefix + name + "-file", p);
      return Secret.ofFile(f);
    }
    String var = env.trim();
    String value = environment.apply(var);
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(prefix + name + "-env: " + var + " is not set in the server's environment");
    }
    return Secret.ofEnv(var, value.strip());
  }

  private static String required(String key, Properties p) {
    String v = p.getProperty(key);
    if (v == null || v.isBlank()) {
      throw new IllegalArgumentException(key + " is required");
    }
    return v.trim();
  }

  private static Path file(String key, Properties p) {
    Path f = Path.of(required(key, p));
    if (!f.isAbsolute()) {
      throw new IllegalArgumentException(key + ": '" + f + "' must be an absolute path");
    }
    if (!Files.isReadable(f)) {
      throw new IllegalArgumentException(key + ": " + f + " does not exist or cannot be read by this user");
    }
    return f;
  }
}
