package dev.conveyor.bench;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.runway.merge.GitMerger;
import dev.conveyor.runway.merge.MergeOutcome;
import dev.conveyor.runway.merge.MergePlans;
import dev.conveyor.runway.merge.RepositoryCache;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.queue.RunwayQueues;
import java.io.BufferedOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * A 10-step REBASE merge and push on a repository of 20,000 files and 5,000 commits: Runway's
 * merger next to command-line git doing the same cherry-picks and push from a warm clone, on fresh
 * copies of the same origin each round.
 */
final class RunwayBench {
  private static final int FILES = 20_000;
  private static final int COMMITS = 5_000;
  private static final int STEPS = 10;
  private static final int ROUNDS = 5;

  private RunwayBench() {}

  static void run(BenchArgs args) throws Exception {
    Path root = Files.createTempDirectory("runway-bench");
    try {
      long t0 = System.nanoTime();
      Path origin = root.resolve("origin.git");
      Shell.git(root, "init", "-q", "--bare", "-b", "main", origin.toString());
      generate(origin);
      System.out.printf("repository: %,d files, %,d commits on main, %d change branches (built in %.1f s)%n",
          FILES, Integer.parseInt(Shell.git(origin, "rev-list", "--count", "refs/heads/main")), STEPS,
          (System.nanoTime() - t0) / 1e9);
      String[] changes = new String[STEPS];
      for (int k = 0; k < STEPS; k++) {
        changes[k] = Shell.git(origin, "rev-parse", "refs/heads/change-" + k);
      }
      Path work = root.resolve("git-work");
      Shell.git(root, "clone", "-q", origin.toString(), work.toString());
      for (int k = 0; k < STEPS; k++) {
        Shell.git(work, "fetch", "-q", "origin", "change-" + k);
      }

      MergeRequest.Builder request = MergeRequest.newBuilder().setId("bench").setQueueName("bench");
      for (int k = 0; k < STEPS; k++) {
        request.addSteps(MergeStep.newBuilder().setStepId("s" + k).setStrategy(Strategy.REBASE).setChange(
            Change.newBuilder().addUris("change://origin/refs/heads/change-" + k + "@" + changes[k])));
      }
      List<Double> runwayMs = new ArrayList<>();
      List<Double> gitMs = new ArrayList<>();
      try (GitMerger merger = new GitMerger(new RepositoryCache(root.resolve("cache")), Clock.systemUTC())) {
        for (int round = 0; round <= ROUNDS; round++) {
          Path forRunway = Shell.copy(origin, root.resolve("round-" + round + "-runway.git"));
          Path forGit = Shell.copy(origin, root.resolve("round-" + round + "-git.git"));
          var queues = RunwayQueues.of(QueueConfig.of("bench", forRunway.toString(), "main", Strategy.REBASE));

          long s = System.nanoTime();
          MergeOutcome outcome = merger.merge(MergePlans.plan(request.build(), queues, false));
          double runway = (System.nanoTime() - s) / 1e6;
          if (!(outcome instanceof MergeOutcome.Succeeded)) {
            throw new IllegalStateException("runway merge failed: " + outcome);
          }

          Shell.git(work, "remote", "set-url", "origin", forGit.toString());
          s = System.nanoTime();
          Shell.git(work, "fetch", "-q", "origin");
          Shell.git(work, "checkout", "-q", "-B", "land", "origin/main");
          List<String> pick = new ArrayList<>(List.of("cherry-pick"));
          pick.addAll(Arrays.asList(changes));
          Shell.git(work, pick.toArray(String[]::new));
          Shell.git(work, "push", "-q", "origin", "land:main");
          double cli = (System.nanoTime() - s) / 1e6;

          String treeRunway = Shell.git(forRunway, "rev-parse", "main^{tree}");
          String treeGit = Shell.git(forGit, "rev-parse", "main^{tree}");
          if (!treeRunway.equals(treeGit) || !Shell.git(forRunway, "rev-list", "--count", "main")
              .equals(Shell.git(forGit, "rev-list", "--count", "main"))) {
            throw new IllegalStateException("runway and git disagree on the result in round " + round);
          }
          System.out.printf("round %d%s: runway %.0f ms, git %.0f ms%n", round, round == 0 ? " (warm-up)" : "",
              runway, cli);
          if (round > 0) {
            runwayMs.add(runway);
            gitMs.add(cli);
          }
          Shell.delete(forRunway);
          Shell.delete(forGit);
        }
      }
      double r = median(runwayMs);
      double g = median(gitMs);
      System.out.printf("10-step REBASE merge + push, median of %d rounds: runway %.0f ms, command-line git %.0f ms,"
          + " ratio %.2fx (target <= 1.5x); trees and commit counts identical%n", ROUNDS, r, g, r / g);
    } finally {
      Shell.delete(root);
    }
  }

  /** Writes the history with git fast-import: all files, then one-file commits, then the change branches. */
  private static void generate(Path origin) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("git", "fast-import", "--quiet").directory(origin.toFile())
        .redirectErrorStream(true).redirectOutput(ProcessBuilder.Redirect.DISCARD).start();
    try (OutputStream out = new BufferedOutputStream(p.getOutputStream(), 1 << 20)) {
      long time = 1_700_000_000L;
      StringBuilder c = new StringBuilder();
      commitHeader(c, "refs/heads/main", 1, time++, "import " + FILES + " files", null);
      for (int f = 0; f < FILES; f++) {
        file(c, path(f), "file " + f + "\nline two\nline three\n");
      }
      out.write(c.toString().getBytes(StandardCharsets.UTF_8));
      for (int i = 2; i < COMMITS; i++) {
        c.setLength(0);
        commitHeader(c, "refs/heads/main", i, time++, "change " + i, null);
        int f = (int) ((i * 7919L) % FILES);
        file(c, path(f), "file " + f + "\nrevision " + i + "\nline three\n");
        out.write(c.toString().getBytes(StandardCharsets.UTF_8));
      }
      for (int k = 0; k < STEPS; k++) {
        c.setLength(0);
        commitHeader(c, "refs/heads/change-" + k, COMMITS + 1 + k, time++, "landing change " + k, ":" + (COMMITS - 1));
        file(c, "changes/change-" + k + ".txt", "change " + k + "\n");
        int f = (k * 1_999) % FILES;
        file(c, path(f), "file " + f + "\nedited by change " + k + "\nline three\n");
        out.write(c.toString().getBytes(StandardCharsets.UTF_8));
      }
      c.setLength(0);
      // main moves on after the changes branched, so every step is a real cherry-pick
      commitHeader(c, "refs/heads/main", COMMITS, time, "main moves on", ":" + (COMMITS - 1));
      file(c, "README.md", "moved on\n");
      out.write(c.toString().getBytes(StandardCharsets.UTF_8));
    }
    if (p.waitFor() != 0) {
      throw new IllegalStateException("git fast-import failed");
    }
    Shell.git(origin, "gc", "-q");
  }

  private static String path(int f) {
    return String.format("d%03d/f%05d.txt", f % 200, f);
  }

  private static void commitHeader(StringBuilder c, String ref, int mark, long time, String message, String from) {
    byte[] msg = message.getBytes(StandardCharsets.UTF_8);
    c.append("commit ").append(ref).append('\n').append("mark :").append(mark).append('\n')
        .append("author Ada Author <ada@example.com> ").append(time).append(" +0000\n")
        .append("committer Ada Author <ada@example.com> ").append(time).append(" +0000\n")
        .append("data ").append(msg.length).append('\n').append(message).append('\n');
    if (from != null) {
      c.append("from ").append(from).append('\n');
    }
  }

  private static void file(StringBuilder c, String path, String content) {
    c.append("M 100644 inline ").append(path).append('\n')
        .append("data ").append(content.getBytes(StandardCharsets.UTF_8).length).append('\n').append(content).append('\n');
  }

  private static double median(List<Double> values) {
    List<Double> sorted = values.stream().sorted().toList();
    return sorted.get(sorted.size() / 2);
  }
}
