package dev.conveyor.bench;

import com.github.kagkarlsson.scheduler.Scheduler;
import com.github.kagkarlsson.scheduler.task.helper.OneTimeTask;
import com.github.kagkarlsson.scheduler.task.helper.Tasks;
import com.zaxxer.hikari.HikariConfig;
import com.zaxxer.hikari.HikariDataSource;
import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.Statement;
import java.sql.Timestamp;
import java.time.Duration;
import java.time.Instant;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * The same workload on db-scheduler: N due one-time tasks with a no-op body, executed by T
 * threads using its fastest PostgreSQL strategy (lock-and-fetch, i.e. SKIP LOCKED batches).
 */
final class DbSchedulerBench {
  private DbSchedulerBench() {}

  static JobsBench.Result run(String jdbcUrl, BenchArgs a) throws Exception {
    HikariConfig cfg = new HikariConfig();
    cfg.setJdbcUrl(jdbcUrl);
    cfg.setUsername("postgres");
    cfg.setMaximumPoolSize(a.threads() + 2);
    try (HikariDataSource ds = new HikariDataSource(cfg)) {
      createTable(ds);
      long warmUpStart = System.nanoTime(); // the same warm-up as Conveyor's
      while (System.nanoTime() - warmUpStart < JobsBench.WARM_UP.toNanos()) {
        once(ds, jdbcUrl, a, JobsBench.WARM_UP_ROUND);
      }
      return once(ds, jdbcUrl, a, a.jobs());
    }
  }

  private static JobsBench.Result once(HikariDataSource ds, String jdbcUrl, BenchArgs a, int jobs) throws Exception {
    {
      insertDueTasks(ds, jobs);
      CountDownLatch done = new CountDownLatch(jobs);
      OneTimeTask<Void> noop = Tasks.oneTime("noop").execute((instance, ctx) -> done.countDown());
      Scheduler scheduler = Scheduler.create(ds, noop)
          .threads(a.threads())
          .pollingInterval(Duration.ofMillis(50))
          .pollUsingLockAndFetch(1.0, 4.0) // the README's high-throughput setting
          .build();
      var before = JobsBench.commits(jdbcUrl);
      HeapPeak.reset();
      CpuMeter.Sample cpuBefore = CpuMeter.sample(java.util.List.of());
      long start = System.nanoTime();
      scheduler.start();
      if (!done.await(30, TimeUnit.MINUTES)) {
        throw new IllegalStateException("db-scheduler did not finish");
      }
      // an execution's completion (deleting its one-time task) commits after its body returns: the clock
      // stops, as Conveyor's does, when the last completion has committed
      long polls = 0;
      try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
        while (true) {
          polls++;
          try (var rs = s.executeQuery("SELECT COUNT(*) FROM scheduled_tasks")) {
            rs.next();
            if (rs.getLong(1) == 0) {
              break;
            }
          }
          Thread.sleep(1);
        }
      }
      double seconds = (System.nanoTime() - start) / 1e9;
      CpuMeter.Share cpu = CpuMeter.sample(java.util.List.of()).perJobSince(cpuBefore, jobs);
      long peak = HeapPeak.peakMb();
      scheduler.stop();
      ds.getHikariPoolMXBean().softEvictConnections(); // idle sessions flush their statistics as they end
      long after = JobsBench.settledCommits(jdbcUrl).orElseThrow();
      return new JobsBench.Result("db-scheduler / PostgreSQL (lockAndFetch 1.0, 4.0)", jobs, seconds, Double.NaN,
          Double.NaN, peak, (after - before.orElseThrow() - polls) / (double) jobs, cpu);
    }
  }

  private static void createTable(HikariDataSource ds) throws Exception {
    try (Connection c = ds.getConnection(); Statement s = c.createStatement()) {
      s.execute("CREATE TABLE scheduled_tasks (task_name TEXT NOT NULL, task_instance TEXT NOT NULL,"
          + " task_data BYTEA, execution_time TIMESTAMP WITH TIME ZONE NOT NULL, picked BOOLEAN NOT NULL,"
          + " picked_by TEXT, last_success TIMESTAMP WITH TIME ZONE, last_failure TIMESTAMP WITH TIME ZONE,"
          + " consecutive_failures INT, last_heartbeat TIMESTAMP WITH TIME ZONE, version BIGINT NOT NULL,"
          + " priority SMALLINT, PRIMARY KEY (task_name, task_instance))");
      s.execute("CREATE INDEX execution_time_idx ON scheduled_tasks (execution_time)");
      s.execute("CREATE INDEX last_heartbeat_idx ON scheduled_tasks (last_heartbeat)");
      s.execute("CREATE INDEX priority_execution_time_idx ON scheduled_tasks (priority DESC, execution_time ASC)");
    }
  }

  private static void insertDueTasks(HikariDataSource ds, int n) throws Exception {
    Timestamp due = Timestamp.from(Instant.now().minusSeconds(1));
    try (Connection c = ds.getConnection(); PreparedStatement ps = c.prepareStatement(
        "INSERT INTO scheduled_tasks (task_name, task_instance, execution_time, picked, version, priority)"
            + " VALUES ('noop', ?, ?, false, 1, 0)")) {
      c.setAutoCommit(false);
      for (int i = 0; i < n; i++) {
        ps.setString(1, "i" + i);
        ps.setTimestamp(2, due);
        ps.addBatch();
        if (i % 1000 == 999) {
          ps.executeBatch();
        }
      }
      ps.executeBatch();
      c.commit();
    }
  }
}
