package dev.conveyor.bench;

import java.io.IOException;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One {@code bin/conveyor serve} child process, started the way an operator starts it (the launcher's
 * default heap and GC included), with its log in the data directory. Reads the process's resident
 * set from {@code /proc} and its heap after a full collection through {@code jcmd}.
 */
public final class ServeProcess implements AutoCloseable {
  private static final Pattern USED = Pattern.compile("used (\\d+)K");

  private final Process process;
  private final int grpcPort;
  private final Path dataDir;
  private final Path log;

  private ServeProcess(Process process, int grpcPort, Path dataDir, Path log) {
    this.process = process;
    this.grpcPort = grpcPort;
    this.dataDir = dataDir;
    this.log = log;
  }

  /** Writes {@code conveyor.properties} (the given settings plus free ports) and starts serve. */
  public static ServeProcess start(Path root, Path dataDir, String settings) throws IOException {
    Files.createDirectories(dataDir);
    int grpc = freePort();
    int http = freePort();
    Path config = dataDir.resolve("conveyor.properties");
    Files.writeString(config, settings + "bind = 127.0.0.1\ngrpc-port = " + grpc + "\nhttp-port = " + http + "\n");
    Path log = dataDir.resolve("serve.log");
    Process p = new ProcessBuilder(root.resolve("bin/conveyor").toString(), "serve", "--data-dir", dataDir.toString(),
        "--config", config.toString()).redirectErrorStream(true).redirectOutput(log.toFile()).start();
    return new ServeProcess(p, grpc, dataDir, log);
  }

  /**
   * Waits (at most {@code max}) until serve has settled after its start: less than a tenth of a core over
   * a second, from its CPU time in {@code /proc}. A person meets a serve that has been running a while.
   */
  public void awaitQuiet(java.time.Duration max) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + max.toNanos();
    long before = cpuTicks();
    while (System.nanoTime() < deadline) {
      Thread.sleep(1000); // sampling a process's CPU use needs an interval
      long now = cpuTicks();
      if (now - before < 10) { // clock ticks are 1/100 s
        return;
      }
      before = now;
    }
  }

  private long cpuTicks() throws IOException {
    String stat = Files.readString(Path.of("/proc", String.valueOf(process.pid()), "stat"));
    String[] f = stat.substring(stat.lastIndexOf(')') + 2).split(" ");
    return Long.parseLong(f[11]) + Long.parseLong(f[12]); // utime, stime
  }

  /** Waits until the local token exists and the gRPC port accepts connections (a first start may build the app). */
  public void awaitReady() throws IOException, InterruptedException {
    awaitReady(dataDir.resolve("local-token"));
  }

  /** Waits until {@code token} exists and the gRPC port accepts connections. */
  public void awaitReady(Path token) throws IOException, InterruptedException {
    long deadline = System.nanoTime() + Duration.ofMinutes(10).toNanos();
    while (!Files.exists(token) || !portOpen(grpcPort)) {
      if (!process.isAlive() || System.nanoTime() > deadline) {
        throw new IllegalStateException("serve did not start; its log ends:\n" + logTail(30));
      }
      Thread.sleep(200);
    }
  }

  private static boolean portOpen(int port) {
    try (Socket s = new Socket("127.0.0.1", port)) {
      return true;
    } catch (IOException e) {
      return false;
    }
  }

  public int grpcPort() {
    return grpcPort;
  }

  public Path dataDir() {
    return dataDir;
  }

  public Path log() {
    return log;
  }

  public long pid() {
    return process.pid();
  }

  /** SIGKILL, as a node dies: no hand-back, no goodbye. */
  public void kill() throws InterruptedException {
    process.destroyForcibly().waitFor();
  }

  public boolean alive() {
    return process.isAlive();
  }

  /** Resident set size in bytes (the launcher execs java, so the child's pid is the JVM's). */
  public long rssBytes() throws IOException {
    for (String line : Files.readAllLines(Path.of("/proc", String.valueOf(process.pid()), "status"))) {
      if (line.startsWith("VmRSS:")) {
        return Long.parseLong(line.replaceAll("[^0-9]", "")) * 1024;
      }
    }
    throw new IOException("no VmRSS for pid " + process.pid());
  }

  /** Heap in use right after a full collection the benchmark asks for ({@code jcmd GC.run}). */
  public long heapAfterGcBytes() throws IOException, InterruptedException {
    jcmd("GC.run");
    Matcher m = USED.matcher(jcmd("GC.heap_info"));
    if (!m.find()) {
      throw new IOException("jcmd GC.heap_info printed no heap use");
    }
    return Long.parseLong(m.group(1)) * 1024;
  }

  private String jcmd(String command) throws IOException, InterruptedException {
    Path jcmd = Path.of(System.getProperty("java.home"), "bin", "jcmd");
    Process p = new ProcessBuilder(jcmd.toString(), String.valueOf(process.pid()), command)
        .redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
    if (!p.waitFor(60, TimeUnit.SECONDS) || p.exitValue() != 0) {
      throw new IOException("jcmd " + command + " failed: " + out.strip());
    }
    return out;
  }

  /** The last lines of serve's log, for a failure message. */
  public String logTail(int lines) {
    try {
      var all = Files.readAllLines(log);
      return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
    } catch (IOException e) {
      return "(no log: " + e.getMessage() + ")";
    }
  }

  /** Lines of serve's log at WARN or ERROR, in order. */
  public List<String> warnings() {
    try (var lines = Files.lines(log)) {
      return lines.filter(l -> l.contains(" WARN ") || l.contains(" ERROR ")).toList();
    } catch (IOException e) {
      return List.of("(no log: " + e.getMessage() + ")");
    }
  }

  /** SIGTERM, as an operator stops it; answers whether it exited within {@code grace}. */
  public boolean stop(Duration grace) throws InterruptedException {
    process.destroy();
    if (process.waitFor(grace.toMillis(), TimeUnit.MILLISECONDS)) {
      return true;
    }
    process.destroyForcibly().waitFor();
    return false;
  }

  @Override
  public void close() throws InterruptedException {
    if (process.isAlive()) {
      stop(Duration.ofSeconds(40));
    }
  }

  private static int freePort() throws IOException {
    try (ServerSocket s = new ServerSocket(0)) {
      return s.getLocalPort();
    }
  }
}
