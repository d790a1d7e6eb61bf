package dev.conveyor.bench;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.stream.Stream;

/**
 * CPU time (user + system, from {@code /proc}) spent by the benchmark's own JVM, by given worker processes
 * and by every PostgreSQL server process on the machine, between two samples: where a run's CPU went,
 * per completed job. Linux only; elsewhere every figure is unknown. PostgreSQL backends that end inside the
 * window take their time with them, so a benchmark samples while its connections stay open.
 */
final class CpuMeter {
  private CpuMeter() {}

  /** Clock ticks per second of {@code /proc/<pid>/stat} times: USER_HZ, 100 on every Linux the JDK runs on. */
  private static final double TICKS_PER_SECOND = 100;

  /** CPU seconds at one moment: this JVM, the workers (all together) and PostgreSQL. */
  record Sample(double self, double workers, double postgres) {
    /** What was spent between {@code before} and this sample, in microseconds per {@code jobs}. */
    Share perJobSince(Sample before, int jobs) {
      return new Share((self - before.self) * 1e6 / jobs, (workers - before.workers) * 1e6 / jobs,
          (postgres - before.postgres) * 1e6 / jobs);
    }
  }

  /** CPU microseconds per job: the benchmark's JVM (the control plane, or db-scheduler), workers, PostgreSQL. */
  record Share(double self, double workers, double postgres) {
    double total() {
      return self + workers + postgres;
    }
  }

  static Sample sample(List<Long> workerPids) {
    double workers = 0;
    for (long pid : workerPids) {
      workers += seconds(Path.of("/proc", String.valueOf(pid), "stat"));
    }
    return new Sample(seconds(Path.of("/proc/self/stat")), workers, postgres());
  }

  private static double postgres() {
    double sum = 0;
    try (Stream<Path> procs = Files.list(Path.of("/proc"))) {
      for (Path p : (Iterable<Path>) procs::iterator) {
        String name = p.getFileName().toString();
        if (name.chars().allMatch(Character::isDigit) && isPostgres(p)) {
          sum += seconds(p.resolve("stat"));
        }
      }
    } catch (IOException e) {
      return Double.NaN;
    }
    return sum;
  }

  private static boolean isPostgres(Path proc) {
    try {
      return Files.readString(proc.resolve("comm")).trim().startsWith("postgres");
    } catch (IOException e) {
      return false; // ended meanwhile
    }
  }

  /** utime + stime of one process, in seconds; 0 for one that ended meanwhile. */
  private static double seconds(Path stat) {
    try {
      String s = Files.readString(stat);
      // the command name, in parentheses, may hold spaces: fields count from after its closing one
      String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
      return (Long.parseLong(f[11]) + Long.parseLong(f[12])) / TICKS_PER_SECOND;
    } catch (IOException | RuntimeException e) {
      return 0;
    }
  }
}
