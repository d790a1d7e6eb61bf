package dev.conveyor.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;

/**
 * A bare origin with one commit on {@code main}, and a work clone that pushes changes to it: each change
 * is a branch adding one new file, so no two changes conflict.
 */
public record GitOrigin(Path origin, Path work) {

  public static GitOrigin create(Path root) throws IOException, InterruptedException {
    Path origin = root.resolve("origin.git");
    Path work = root.resolve("work");
    Shell.git(root, "init", "-q", "--bare", "-b", "main", origin.toString());
    Shell.git(root, "init", "-q", "-b", "main", work.toString());
    Files.writeString(work.resolve("README.md"), "bench\n");
    Shell.git(work, "add", "-A");
    Shell.git(work, "commit", "-q", "-m", "initial");
    Shell.git(work, "push", "-q", origin.toString(), "main");
    return new GitOrigin(origin, work);
  }

  /** Pushes branch {@code change-<n>} adding {@code change-<n>.txt}; answers its change URI. */
  public String pushChange(int n) throws IOException, InterruptedException {
    String branch = "change-" + n;
    Shell.git(work, "checkout", "-q", "-B", branch, "main");
    Files.writeString(work.resolve(branch + ".txt"), branch + "\n");
    Shell.git(work, "add", "-A");
    Shell.git(work, "commit", "-q", "-m", branch);
    Shell.git(work, "push", "-q", "-f", origin.toString(), branch);
    return "change://origin/refs/heads/" + branch + "@" + Shell.git(work, "rev-parse", "HEAD");
  }

  /** How many changes the origin's {@code main} holds. */
  public long changesOnMain() throws IOException, InterruptedException {
    return Shell.git(origin, "ls-tree", "--name-only", "main").lines().filter(l -> l.startsWith("change-")).count();
  }
}
