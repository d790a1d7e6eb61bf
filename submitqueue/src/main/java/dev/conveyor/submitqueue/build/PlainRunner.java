package dev.conveyor.submitqueue.build;

import dev.conveyor.submitqueue.config.BuildIsolation;
import java.io.IOException;
import java.nio.file.Path;

/**
 * Runs a build as the server's user without confinement, when bubblewrap is absent or the queue
 * says {@code build-sandbox = none}: a clean environment and a fresh HOME, nothing more. Such a
 * build can read whatever the server's user can; serve says so at start.
 */
record PlainRunner(Path bash, BuildIsolation isolation) implements BuildRunner {
  @Override
  public Process start(String command, Path tree, Path scratch) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(bash.toString(), "-c", command).directory(tree.toFile())
        .redirectErrorStream(true);
    pb.environment().clear();
    pb.environment().putAll(BuildRunner.environment(isolation, scratch.toString()));
    Process p = pb.start();
    p.getOutputStream().close();
    return p;
  }

  @Override
  public boolean sandboxed() {
    return false;
  }
}
