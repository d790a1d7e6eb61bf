package dev.conveyor.bench;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;

/**
 * Warm start-up of the CLI as a person meets it: {@code bin/conveyor --help}, and {@code list} and
 * {@code status} answered by a running serve (SQLite, loopback) once it has settled after its start, each
 * run 10 times after 2 warm-ups;
 * prints medians and p90. A second line, labelled, runs {@code list} with the same JVM flags but
 * without the class-data archive the launcher makes at build time.
 */
final class CliBench {
  private static final int RUNS = 10;

  private CliBench() {}

  static boolean run(BenchArgs a) throws Exception {
    Path root = Path.of(System.getProperty("conveyor.root", ".")).toAbsolutePath().normalize();
    Path conveyor = root.resolve("bin/conveyor");
    Path dir = Files.createTempDirectory("conveyor-cli-bench");
    GitOrigin git = GitOrigin.create(dir);
    try (ServeProcess serve = ServeProcess.start(root, dir.resolve("data"), "capture-worker = false\n"
        + "queue.app.remote = " + git.origin() + "\nqueue.app.build-command = true\n")) {
      serve.awaitReady();
      serve.awaitQuiet(java.time.Duration.ofSeconds(60));
      String server = "127.0.0.1:" + serve.grpcPort();
      String token = serve.dataDir().resolve("local-token").toString();
      System.out.printf("CLI start-up, warm, %d runs each after 2 warm-ups, serve on SQLite at %s%n", RUNS, server);
      double help = time("conveyor --help", List.of(conveyor.toString(), "--help"), 0);
      double list = time("conveyor list", List.of(conveyor.toString(), "list", "--server", server,
          "--token-file", token), 0);
      double status = time("conveyor status <unknown id>", List.of(conveyor.toString(), "status", "no-such-request",
          "--server", server, "--token-file", token), 1);
      List<String> plain = new ArrayList<>(List.of("java", "-Xmx256m", "-XX:+UseSerialGC", "-XX:TieredStopAtLevel=1",
          "-jar", root.resolve("app/target/conveyor.jar").toString(), "list", "--server", server, "--token-file",
          token));
      time("second line: conveyor list without the class-data archive (same JVM flags)", plain, 0);
      boolean met = help < 0.5 && list < 0.5 && status < 0.5;
      System.out.printf("target: warm start-up < 0.5 s for --help, list and status: %s%n", met ? "met" : "NOT met");
      return true;
    } finally {
      Shell.delete(dir);
    }
  }

  /** Median seconds of {@code command}; every run must exit with {@code expectedExit}. */
  private static double time(String label, List<String> command, int expectedExit) throws Exception {
    double[] seconds = new double[RUNS];
    for (int i = -2; i < RUNS; i++) {
      long t0 = System.nanoTime();
      Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
      String out = new String(p.getInputStream().readAllBytes());
      int exit = p.waitFor();
      double s = (System.nanoTime() - t0) / 1e9;
      if (exit != expectedExit) {
        throw new IllegalStateException(label + " exited " + exit + " (expected " + expectedExit + "): " + out);
      }
      if (i >= 0) {
        seconds[i] = s;
      }
    }
    Arrays.sort(seconds);
    double median = seconds[RUNS / 2];
    System.out.printf("%-60s median %.3f s  p90 %.3f s%n", label, median, seconds[(int) Math.ceil(RUNS * 0.9) - 1]);
    return median;
  }
}
