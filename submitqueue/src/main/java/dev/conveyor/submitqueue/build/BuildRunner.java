package dev.conveyor.submitqueue.build;

import dev.conveyor.submitqueue.config.BuildIsolation;
import java.io.IOException;
import java.nio.file.Path;
import java.util.Map;
import java.util.TreeMap;

/**
 * Where a build command runs: the narrow seam between a build job and the machine. A runner starts
 * {@code bash -c COMMAND} in the exported tree with the queue's environment and nothing of the
 * server's; the job supervises, reads and kills the process it answers.
 */
public interface BuildRunner {
  /** The PATH a build gets unless its queue declares one. */
  String DEFAULT_PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

  /**
   * Starts {@code command} in {@code tree}, stdout and stderr merged, stdin closed. {@code scratch}
   * is a fresh empty directory outside the tree a runner without a private one uses as HOME.
   */
  Process start(String command, Path tree, Path scratch) throws IOException;

  /** Whether the build is confined (the server's files, processes and network out of its reach). */
  boolean sandboxed();

  /** PATH, HOME and LANG, then the queue's declared keys (which may set PATH and LANG). */
  static Map<String, String> environment(BuildIsolation isolation, String home) {
    Map<String, String> env = new TreeMap<>();
    env.put("PATH", DEFAULT_PATH);
    env.put("LANG", "C.UTF-8");
    env.putAll(isolation.env());
    env.put("HOME", home);
    return env;
  }
}
