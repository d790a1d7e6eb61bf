package dev.conveyor.app.metrics;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.messagequeue.consume.MessageHandler;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.Tags;
import io.micrometer.core.instrument.Timer;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicLong;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The process's metrics in the Prometheus text format (served at {@code /metrics} by the web server): ledger-wide gauges (jobs
 * by kind and state — leases are the RUNNING ones —, consumer lag per group and topic, dead letters,
 * land requests by state), read from the ledger at most once a second on scrape, the host clock's skew
 * from the database's, and timers of every SubmitQueue stage.
 */
public final class Metrics implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(Metrics.class);
  private static final long REFRESH_MS = 1_000;

  private final Ledger ledger;
  private final PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
  private final Map<List<String>, AtomicLong> gauges = new ConcurrentHashMap<>();
  private long refreshedAt;

  private volatile dev.conveyor.supervise.Supervisor supervisor;

  public Metrics(Ledger ledger) {
    this.ledger = ledger;
    Gauge.builder("conveyor_ledger_host_clock_skew_seconds", ledger, l -> l.hostClockSkew().toNanos() / 1e9)
        .description("This host's wall clock minus the database's (leases are decided on the database's)")
        .register(registry);
  }

  /**
   * Exposes {@code supervisor}'s loops: {@code conveyor_loop_failures_total{loop}} (every failure since
   * start) and {@code conveyor_loop_healthy{loop}} (0 while the loop keeps failing).
   */
  public void loops(dev.conveyor.supervise.Supervisor supervisor) {
    this.supervisor = supervisor;
  }

  private void registerLoops() {
    var s = supervisor;
    if (s == null) {
      return;
    }
    for (var loop : s.status()) {
      String name = loop.name();
      // registering an existing meter returns it, so loops that appeared since the last scrape are added
      io.micrometer.core.instrument.FunctionCounter.builder("conveyor_loop_failures", s, x -> x.failures(name))
          .description("Failures of a supervised background loop (each is logged and the loop restarted)")
          .tag("loop", name).register(registry);
      Gauge.builder("conveyor_loop_healthy", s, x -> x.unhealthy().contains(name) ? 0 : 1)
          .description("1 unless the loop failed too often in a row (then health is NOT_SERVING)")
          .tag("loop", name).register(registry);
    }
  }

  /** The Prometheus text exposition, with the ledger gauges refreshed if they are older than a second. */
  public String scrape() {
    try {
      registerLoops();
      refresh();
      return registry.scrape();
    } catch (RuntimeException e) {
      log.warn("metrics scrape failed: {}", e.getMessage());
      throw e;
    }
  }

  /** Where other parts of the node register their own meters (merge and build durations, outcomes). */
  public io.micrometer.core.instrument.MeterRegistry registry() {
    return registry;
  }

  /**
   * Maintenance as it goes: {@code conveyor_maintenance_leader} (1 while this node leads),
   * {@code conveyor_retention_deleted_total{task,table}}, {@code conveyor_retention_runs_total{outcome}}
   * and {@code conveyor_reaped_leases_total}.
   */
  public dev.conveyor.ledger.maintenance.Maintenance.Observer maintenance() {
    AtomicLong leader = new AtomicLong();
    Gauge.builder("conveyor_maintenance_leader", leader, AtomicLong::get)
        .description("1 while this node leads maintenance (reaper and retention)").register(registry);
    return new dev.conveyor.ledger.maintenance.Maintenance.Observer() {
      @Override
      public void leading(boolean leading) {
        leader.set(leading ? 1 : 0);
      }

      @Override
      public void reaped(int leases) {
        io.micrometer.core.instrument.Counter.builder("conveyor_reaped_leases")
            .description("Expired job leases the maintenance leader reclaimed").register(registry).increment(leases);
      }

      @Override
      public void retention(dev.conveyor.ledger.maintenance.RetentionReport report) {
        for (var task : report.tasks()) {
          task.rows().forEach((table, n) -> io.micrometer.core.instrument.Counter.builder("conveyor_retention_deleted")
              .description("Rows retention deleted").tag("task", task.task()).tag("table", table).register(registry)
              .increment(n));
        }
        io.micrometer.core.instrument.Counter.builder("conveyor_retention_runs")
            .description("Retention runs; failed when a task stopped early (the next run goes on)")
            .tag("outcome", report.failed() ? "failed" : "ok").register(registry).increment();
      }
    };
  }

  /** Stage timers, and merge and build durations by queue and outcome, for a merge-queue node. */
  public dev.conveyor.app.mergequeue.MergeQueueNode.Observers observers() {
    var outcomes = new dev.conveyor.submitqueue.pipeline.StageOutcomes();
    for (String stage : dev.conveyor.submitqueue.pipeline.SubmitQueuePipeline.STAGES) {
      for (var kind : dev.conveyor.submitqueue.pipeline.StageOutcomes.Kind.values()) {
        io.micrometer.core.instrument.FunctionCounter.builder("conveyor_stage_outcomes", outcomes,
            o -> o.get(stage, kind)).tag("stage", stage).tag("outcome", kind.name().toLowerCase(java.util.Locale.ROOT))
            .description("What a SubmitQueue stage did with the messages it received").register(registry);
      }
    }
    return new dev.conveyor.app.mergequeue.MergeQueueNode.Observers(stageTimers(),
        (plan, outcome, took) -> Timer.builder("conveyor_merge").description("Runway merges (dry runs are checks)")
            .tag("queue", plan.queue().name()).tag("kind", plan.dryRun() ? "check" : "merge").tag("outcome", outcome)
            .register(registry).record(took),
        (queue, outcome, took) -> Timer.builder("conveyor_build").description("SubmitQueue builds, tree to verdict")
            .tag("queue", queue).tag("outcome", outcome).register(registry).record(took), outcomes);
  }

  /** Times every SubmitQueue stage handler as {@code conveyor_stage_seconds{stage}}; logs carry the message id. */
  public StageDecorator stageTimers() {
    return (stage, handler) -> {
      Timer timer = Timer.builder("conveyor_stage").tag("stage", stage)
          .description("Time a SubmitQueue stage spends on one message").register(registry);
      MessageHandler timed = delivery -> {
        long t = System.nanoTime();
        try (var m = org.slf4j.MDC.putCloseable("stage", stage);
            var id = org.slf4j.MDC.putCloseable("message", delivery.message().messageId())) {
          return handler.handle(delivery);
        } finally {
          timer.record(System.nanoTime() - t, java.util.concurrent.TimeUnit.NANOSECONDS);
        }
      };
      return timed;
    };
  }

  private synchronized void refresh() {
    long now = System.currentTimeMillis();
    if (now - refreshedAt < REFRESH_MS) {
      return;
    }
    refreshedAt = now;
    ledger.read(tx -> {
      gauges.values().forEach(g -> g.set(0));
      set("conveyor_ledger_up", "1 when the last scrape could read the ledger", 1);
      for (Object[] r : tx.query("SELECT kind, state, COUNT(*) FROM jobs GROUP BY kind, state",
          rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getLong(3)})) {
        set("conveyor_jobs", "Jobs by kind and state (RUNNING are leased)", (Long) r[2], "kind", r[0], "state", r[1]);
      }
      for (Object[] r : tx.query("SELECT g.group_name, g.topic, SUM(p.next_seq - 1 - g.committed_seq)"
          + " FROM mq_group_partitions g JOIN mq_partitions p ON p.topic = g.topic AND p.partition_no = g.partition_no"
          + " GROUP BY g.group_name, g.topic", rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getLong(3)})) {
        set("conveyor_queue_lag", "Messages a consumer group has not consumed yet", (Long) r[2], "group", r[0],
            "topic", r[1]);
      }
      for (Object[] r : tx.query("SELECT group_name, topic, SUM(takeovers) FROM mq_group_partitions"
          + " GROUP BY group_name, topic", rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getLong(3)})) {
        set("conveyor_partition_takeovers", "Partition leases a member took from another whose lease lapsed",
            (Long) r[2], "group", r[0], "topic", r[1]);
      }
      // retained dead letters per topic from the partition table (next - lowest retained), not by counting messages
      for (Object[] r : tx.query("SELECT topic, SUM(next_seq - low_seq) FROM mq_partitions WHERE topic LIKE '%.dlq'"
          + " GROUP BY topic",
          rs -> new Object[] {rs.getString(1), rs.getLong(2)})) {
        set("conveyor_dead_letters", "Retained messages of a dead-letter topic", (Long) r[1], "topic", r[0]);
      }
      for (Object[] r : tx.query("SELECT queue, state, COUNT(*) FROM sq_requests GROUP BY queue, state",
          rs -> new Object[] {rs.getString(1), rs.getString(2), rs.getLong(3)})) {
        set("conveyor_submitqueue_requests", "Land requests by queue and state", (Long) r[2], "queue", r[0],
            "state", r[1]);
      }
      return null;
    });
  }

  private void set(String name, String help, long value, Object... tags) {
    String[] t = new String[tags.length];
    for (int i = 0; i < tags.length; i++) {
      t[i] = String.valueOf(tags[i]);
    }
    List<String> key = new java.util.ArrayList<>(List.of(t));
    key.add(0, name);
    gauges.computeIfAbsent(key, k -> {
      AtomicLong holder = new AtomicLong();
      Gauge.builder(name, holder, AtomicLong::get).description(help).tags(Tags.of(t)).register(registry);
      return holder;
    }).set(value);
  }

  @Override
  public void close() {
    registry.close();
  }
}
