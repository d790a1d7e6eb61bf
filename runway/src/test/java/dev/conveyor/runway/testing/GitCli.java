package dev.conveyor.runway.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * Command-line git, run with a fixed identity and no user or system configuration, so tests and the
 * benchmark can build repositories and compare Runway's results with what git itself does.
 */
public final class GitCli {
  private GitCli() {}

  public static String run(Path dir, String... args) {
    List<String> command = new ArrayList<>();
    command.add("git");
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command).directory(dir.toFile()).redirectErrorStream(true);
    Map<String, String> env = pb.environment();
    env.put("GIT_CONFIG_NOSYSTEM", "1");
    env.put("GIT_CONFIG_GLOBAL", "/dev/null");
    env.put("GIT_AUTHOR_NAME", "Ada Author");
    env.put("GIT_AUTHOR_EMAIL", "ada@example.com");
    env.put("GIT_COMMITTER_NAME", "Cy Committer");
    env.put("GIT_COMMITTER_EMAIL", "cy@example.com");
    env.put("GIT_TERMINAL_PROMPT", "0");
    try {
      Process p = pb.start();
      p.getOutputStream().close();
      String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
      int rc = p.waitFor();
      if (rc != 0) {
        throw new GitFailed("git " + String.join(" ", args) + " in " + dir + " exited " + rc + ":\n" + out, rc, out);
      }
      return out.strip();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException(e);
    }
  }

  /** A git command that exited non-zero; the output is kept for assertions. */
  public static final class GitFailed extends RuntimeException {
    private static final long serialVersionUID = 1L;
    public final int exitCode;
    public final String output;

    GitFailed(String message, int exitCode, String output) {
      super(message);
      this.exitCode = exitCode;
      this.output = output;
    }
  }
}
