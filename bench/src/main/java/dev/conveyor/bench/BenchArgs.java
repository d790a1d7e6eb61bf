package dev.conveyor.bench;

/** Options shared by the benchmarks, with defaults sized for a 2-core machine. */
record BenchArgs(int jobs, int threads, int batch, String pgHost, int pgPort, int mb, long buildMs) {

  static BenchArgs parse(String[] args) {
    int jobs = 20_000;
    int threads = 8;
    int batch = 50;
    String host = "127.0.0.1";
    int port = 5432;
    int mb = 1024;
    long buildMs = 1000;
    for (int i = 0; i < args.length; i++) {
      String v = i + 1 < args.length ? args[i + 1] : null;
      switch (args[i]) {
        case "--jobs" -> jobs = Integer.parseInt(require(args[i], v));
        case "--threads" -> threads = Integer.parseInt(require(args[i], v));
        case "--batch" -> batch = Integer.parseInt(require(args[i], v));
        case "--mb" -> mb = Integer.parseInt(require(args[i], v));
        case "--build-ms" -> buildMs = Long.parseLong(require(args[i], v));
        case "--pg" -> {
          String[] hp = require(args[i], v).split(":");
          host = hp[0];
          port = hp.length > 1 ? Integer.parseInt(hp[1]) : 5432;
        }
        default -> throw new IllegalArgumentException("unknown option " + args[i]);
      }
      i++;
    }
    return new BenchArgs(jobs, threads, batch, host, port, mb, buildMs);
  }

  private static String require(String option, String value) {
    if (value == null) {
      throw new IllegalArgumentException(option + " needs a value");
    }
    return value;
  }
}
