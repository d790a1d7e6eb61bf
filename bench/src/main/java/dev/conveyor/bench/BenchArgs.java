package dev.conveyor.bench;

/**
 * Options shared by the benchmarks, with defaults sized for a 2-core machine. {@code dbPrefix} names
 * every PostgreSQL database a benchmark creates (and so the only ones it may drop).
 */
public record BenchArgs(int jobs, int threads, int batch, String pgHost, int pgPort, int mb, long buildMs,
    String dbPrefix, double minutes, int sampleSeconds, String backend, java.util.List<String> modes,
    java.util.Set<String> lines, int nodes) {

  public static BenchArgs parse(String[] args) {
    int jobs = 20_000;
    int threads = 8;
    int batch = 50;
    String host = "127.0.0.1";
    int port = 5432;
    int mb = 1024;
    long buildMs = 1000;
    String prefix = "conveyor_bench_";
    double minutes = 10;
    int sampleSeconds = 30;
    String backend = "both";
    java.util.List<String> modes = java.util.List.of("serial", "1", "4", "8", "b4", "b8");
    java.util.Set<String> lines = JOBS_LINES;
    int nodes = 0;
    for (int i = 0; i < args.length; i++) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--jobs" -> jobs = Integer.parseInt(require(args[i], v));
        case "--threads" -> threads = Integer.parseInt(require(args[i], v));
        case "--batch" -> batch = Integer.parseInt(require(args[i], v));
        case "--nodes" -> nodes = Integer.parseInt(require(args[i], v));
        case "--mb" -> mb = Integer.parseInt(require(args[i], v));
        case "--build-ms" -> buildMs = Long.parseLong(require(args[i], v));
        case "--minutes" -> minutes = Double.parseDouble(require(args[i], v));
        case "--sample-seconds" -> sampleSeconds = Integer.parseInt(require(args[i], v));
        case "--backend" -> backend = require(args[i], v);
        case "--db-prefix" -> prefix = require(args[i], v);
        case "--modes" -> modes = java.util.List.of(require(args[i], v).split(","));
        case "--lines" -> lines = java.util.Set.of(require(args[i], v).split(","));
        case "--pg" -> {
          String[] hp = require(args[i], v).split(":");
          host = hp[0];
          port = hp.length > 1 ? Integer.parseInt(hp[1]) : 5432;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
      i++;
    }
    if (!prefix.matches("[a-z_][a-z0-9_]{0,40}")) {
      throw new IllegalArgumentException("--db-prefix must be lower-case letters, digits and _ (up to 41), got '"
          + prefix + "'");
    }
    if (!backend.matches("both|postgres|sqlite")) {
      throw new IllegalArgumentException("--backend must be both, postgres or sqlite, got '" + backend + "'");
    }
    if (minutes <= 0 || sampleSeconds < 1) {
      throw new IllegalArgumentException("--minutes and --sample-seconds must be positive");
    }
    if (!modes.stream().allMatch(m -> m.matches("serial|[1-9][0-9]?|b[1-9][0-9]?"))) {
      throw new IllegalArgumentException("--modes takes serial, build budgets 1-99 and bN (budget 4, batches of N),"
          + " comma-separated, got " + modes);
    }
    if (!JOBS_LINES.containsAll(lines)) {
      throw new IllegalArgumentException("--lines takes " + String.join(",", JOBS_LINES) + ", comma-separated, got "
          + lines);
    }
    if (nodes < 0 || nodes > 8) {
      throw new IllegalArgumentException("--nodes must be 1..8, got " + nodes);
    }
    return new BenchArgs(jobs, threads, batch, host, port, mb, buildMs, prefix, minutes, sampleSeconds, backend, modes,
        lines, nodes);
  }

  /** The jobs benchmark's lines; {@code --lines} picks some (the comparison needs grpc and db-scheduler). */
  static final java.util.Set<String> JOBS_LINES = new java.util.LinkedHashSet<>(
      java.util.List.of("grpc", "db-scheduler", "library", "loop", "batched"));

  public boolean jobsLine(String line) {
    return lines.contains(line);
  }

  public boolean runs(String which) {
    return backend.equals("both") || backend.equals(which);
  }

  private static String require(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return value;
  }
}
