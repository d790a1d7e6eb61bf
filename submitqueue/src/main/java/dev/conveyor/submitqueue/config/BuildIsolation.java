package dev.conveyor.submitqueue.config;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.regex.Pattern;

/**
 * What a queue's builds may see: the sandbox they run in, whether they reach the network, which
 * host paths they may read beyond the system directories, and their environment (nothing of the
 * server's but what the queue declares; values taken from the server's environment are secrets,
 * masked in stored output).
 */
public record BuildIsolation(Sandbox sandbox, boolean network, List<Path> readOnlyPaths, Map<String, String> env,
    Set<String> secretKeys) {

  /** Where builds run: bubblewrap when installed ({@code AUTO}), always ({@code BWRAP}) or never ({@code NONE}). */
  public enum Sandbox { AUTO, BWRAP, NONE }

  /** Environment variable names a queue may declare (HOME is the sandbox's own). */
  public static final Pattern ENV_NAME = Pattern.compile("[A-Za-z_][A-Za-z0-9_]{0,127}");

  public static final BuildIsolation DEFAULT = new BuildIsolation(Sandbox.AUTO, false, List.of(), Map.of(), Set.of());

  public BuildIsolation {
    readOnlyPaths = List.copyOf(readOnlyPaths);
    for (Path p : readOnlyPaths) {
      if (!p.isAbsolute() || !p.normalize().equals(p)) {
        throw new IllegalArgumentException("read-only path '" + p + "' must be absolute and normalized");
      }
    }
    env = java.util.Collections.unmodifiableMap(new TreeMap<>(env)); // sorted, for stable output
    for (String key : env.keySet()) {
      if (!ENV_NAME.matcher(key).matches()) {
        throw new IllegalArgumentException("'" + key + "' is not an environment variable name ([A-Za-z_][A-Za-z0-9_]*)");
      }
      if (key.equals("HOME")) {
        throw new IllegalArgumentException("HOME is the build's own fresh directory and cannot be declared");
      }
      if (env.get(key).indexOf('\0') >= 0) { // sandbox options are NUL-separated
        throw new IllegalArgumentException("the value of " + key + " contains a NUL character");
      }
    }
    secretKeys = java.util.Collections.unmodifiableSet(new TreeSet<>(secretKeys));
    if (!env.keySet().containsAll(secretKeys)) {
      throw new IllegalArgumentException("secret keys " + secretKeys + " must be declared environment keys");
    }
  }

  /** The values to mask in stored build output. */
  public List<String> secretValues() {
    return secretKeys.stream().map(env::get).filter(v -> !v.isEmpty()).toList();
  }

  /** Never shows secret values (this record ends up in logs and error messages). */
  @Override
  public String toString() {
    Map<String, String> shown = new TreeMap<>(env);
    secretKeys.forEach(k -> shown.put(k, "***"));
    return "BuildIsolation[sandbox=" + sandbox + ", network=" + network + ", readOnlyPaths=" + readOnlyPaths
        + ", env=" + shown + "]";
  }
}
