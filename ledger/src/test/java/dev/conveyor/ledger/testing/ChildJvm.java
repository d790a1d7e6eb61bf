package dev.conveyor.ledger.testing;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/** A child JVM on the test class path, for tests that kill a process mid-work with SIGKILL. */
public final class ChildJvm implements AutoCloseable {
  private final Process process;
  private final BufferedReader out;
  private java.util.concurrent.BlockingQueue<String> lines;
  private Thread pump;
  private final List<String> printed = java.util.Collections.synchronizedList(new ArrayList<>());

  private ChildJvm(Process process) {
    this.process = process;
    this.out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
  }

  /**
   * The first line (from now on) that {@code matches}, within {@code timeout}; fails if the child
   * exits or stays silent. Every line is also kept in {@link #printed()}. Do not mix with
   * {@link #readUntil}.
   */
  public String awaitLine(java.util.function.Predicate<String> matches, java.time.Duration timeout)
      throws InterruptedException {
    startPump();
    long deadline = System.nanoTime() + timeout.toNanos();
    while (true) {
      String line = lines.poll(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
      if (line == null) {
        throw new IllegalStateException("the child printed no matching line within " + timeout + "; it printed "
            + printed());
      }
      if (line == EOF) {
        throw new IllegalStateException("the child exited (" + process.waitFor() + ") before a matching line; it"
            + " printed " + printed());
      }
      if (matches.test(line)) {
        return line;
      }
    }
  }

  /** Everything the child printed on stdout so far (with {@link #awaitLine}). */
  public List<String> printed() {
    synchronized (printed) {
      return List.copyOf(printed);
    }
  }

  private static final String EOF = new String("<eof>");

  private synchronized void startPump() {
    if (lines != null) {
      return;
    }
    lines = new java.util.concurrent.LinkedBlockingQueue<>();
    pump = new Thread(() -> {
      try {
        String line;
        while ((line = out.readLine()) != null) {
          printed.add(line);
          lines.add(line);
        }
      } catch (IOException e) {
        // the child went away
      }
      lines.add(EOF);
    }, "child-stdout-" + process.pid());
    pump.setDaemon(true);
    pump.start();
  }

  /** SIGTERM: the child's shutdown hooks run. Answers its exit code, or -1 if it had not exited in time. */
  public int terminate(java.time.Duration timeout) throws InterruptedException {
    startPump();
    process.toHandle().destroy(); // SIGTERM; Process.destroy() would also close our end of its stdout
    if (!process.waitFor(timeout.toMillis(), TimeUnit.MILLISECONDS)) {
      return -1;
    }
    pump.join(TimeUnit.SECONDS.toMillis(10)); // what it printed last is in printed()
    return process.exitValue();
  }

  public boolean isAlive() {
    return process.isAlive();
  }

  public static ChildJvm start(Class<?> mainClass, String... args) throws IOException {
    return start(java.util.Map.of(), mainClass, args);
  }

  /** As {@link #start(Class, String...)}, with {@code env} added to the child's environment. */
  public static ChildJvm start(java.util.Map<String, String> env, Class<?> mainClass, String... args)
      throws IOException {
    return start(null, Path.of("target", "child-jvm.log"), env, mainClass, args);
  }

  /**
   * As above, run in {@code workDir} (null: this process's) with its stderr (where its log goes) appended
   * to {@code stderrLog}, for a test that reads one child's log.
   */
  public static ChildJvm start(Path workDir, Path stderrLog, java.util.Map<String, String> env, Class<?> mainClass,
      String... args) throws IOException {
    List<String> cmd = new ArrayList<>();
    cmd.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    cmd.add("-Xmx256m");
    cmd.add("-cp");
    cmd.add(System.getProperty("java.class.path"));
    cmd.add(mainClass.getName());
    cmd.addAll(List.of(args));
    // the children's logs, kept for reading after a failure (surefire does not capture inherited stderr)
    java.io.File log = stderrLog.toAbsolutePath().toFile();
    log.getParentFile().mkdirs();
    ProcessBuilder pb = new ProcessBuilder(cmd).redirectError(ProcessBuilder.Redirect.appendTo(log));
    if (workDir != null) {
      pb.directory(workDir.toFile());
    }
    pb.environment().putAll(env);
    Process p = pb.start();
    return new ChildJvm(p);
  }

  /** Lines the child printed up to (not including) {@code marker}; fails if it exits first. */
  public List<String> readUntil(String marker) throws IOException {
    List<String> lines = new ArrayList<>();
    String line;
    while ((line = out.readLine()) != null) {
      if (line.equals(marker)) {
        return lines;
      }
      lines.add(line);
    }
    throw new IllegalStateException("child exited before printing " + marker + "; it printed " + lines);
  }

  /** SIGKILL: no shutdown hooks, no finally blocks, exactly like a crashed node. */
  public void kill() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
  }

  public long pid() {
    return process.pid();
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      kill();
    }
  }
}
