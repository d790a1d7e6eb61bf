package dev.conveyor.bench;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;

/** Command-line git and friends for the benchmarks, with a fixed identity and no user configuration. */
public final class Shell {
  private Shell() {}

  public static String git(Path dir, String... args) throws IOException, InterruptedException {
    String[] command = new String[args.length + 1];
    command[0] = "git";
    System.arraycopy(args, 0, command, 1, args.length);
    return run(dir, command);
  }

  public static Path copy(Path from, Path to) throws IOException, InterruptedException {
    run(from.getParent(), "cp", "-a", from.toString(), to.toString());
    return to;
  }

  public static void delete(Path dir) throws IOException, InterruptedException {
    run(dir.getParent(), "rm", "-rf", dir.toString());
  }

  public static String run(Path dir, String... command) throws IOException, InterruptedException {
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    pb.environment().put("GIT_CONFIG_NOSYSTEM", "1");
    pb.environment().put("GIT_CONFIG_GLOBAL", "/dev/null");
    pb.environment().put("GIT_COMMITTER_NAME", "Cy Committer");
    pb.environment().put("GIT_COMMITTER_EMAIL", "cy@example.com");
    pb.environment().put("GIT_AUTHOR_NAME", "Cy Committer");
    pb.environment().put("GIT_AUTHOR_EMAIL", "cy@example.com");
    Process p = pb.start();
    p.getOutputStream().close();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    if (p.waitFor() != 0) {
      throw new IllegalStateException(String.join(" ", command) + " failed: " + out);
    }
    return out;
  }
}
