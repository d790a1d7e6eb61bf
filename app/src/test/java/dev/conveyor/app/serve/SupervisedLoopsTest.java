package dev.conveyor.app.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.awaitility.Awaitility.await;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.conveyor.api.reconcile.CapturePolicy;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.capture.stats.ParquetFileStatsTest;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.reconcile.planning.CapturePlanner;
import dev.conveyor.reconcile.planning.CaptureTables;
import dev.conveyor.supervise.Supervisor;
import io.grpc.ManagedChannel;
import io.grpc.health.v1.HealthCheckRequest;
import io.grpc.health.v1.HealthCheckResponse.ServingStatus;
import io.grpc.health.v1.HealthGrpc;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;

/**
 * serve's own loops under the supervisor: an Error in the capture planner or the lease reaper (put
 * there through the ledger's clock, read at the start of their transactions) is logged with the
 * loop's name and the loop runs again; a loop that keeps failing turns gRPC health NOT_SERVING and
 * shows in the metrics until it recovers.
 */
class SupervisedLoopsTest extends LedgerTestBase {
  @TempDir static Path dir;
  @TempDir Path tableDir;
  private final ListAppender<ILoggingEvent> logs = new ListAppender<>();
  private final Logger supervisorLog = (Logger) LoggerFactory.getLogger(Supervisor.class);
  private ControlLoops loops;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }

  @BeforeEach
  void captureLogs() {
    logs.start();
    supervisorLog.addAppender(logs);
  }

  @AfterEach
  void stop() {
    if (loops != null) {
      loops.close();
    }
    supervisorLog.detachAppender(logs);
  }

  /** This node alone: it leads, and so it reaps. */
  private dev.conveyor.ledger.maintenance.Maintenance maintenance() {
    return new dev.conveyor.ledger.maintenance.Maintenance(ledger, "test-node", List.of(),
        dev.conveyor.ledger.maintenance.Maintenance.Options.defaults(),
        dev.conveyor.ledger.maintenance.Maintenance.Observer.NONE);
  }

  private String capture;

  /** A planner, and (in {@code capture}) the root job of one capture of a one-file table it has yet to plan. */
  private CapturePlanner plannerWithOneCapture() throws Exception {
    ParquetFileStatsTest.write(tableDir.resolve("a.parquet"), 20, 1);
    CaptureTables tables = new CaptureTables(ledger);
    CapturePlanner planner = new CapturePlanner(ledger, tables, new CapturePlanner.Limits(1, 1L << 30));
    tables.register("t", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
        .setLocation(tableDir.toString()).build());
    capture = planner.startCapture("t", "", CapturePolicy.newBuilder().setFileStats(true).build());
    return planner;
  }

  private boolean logged(String text) {
    return logs.list.stream().anyMatch(e -> e.getFormattedMessage().contains(text));
  }

  @Test
  void anErrorInTheCapturePlannerIsLoggedAndThePlannerPlansAfterIt() throws Exception {
    CapturePlanner planner = plannerWithOneCapture();
    String root = capture;
    // the planner's first ledger call is its lease, whose transaction runs on a group-commit thread and
    // hands the Error back to the planner loop (no other loop here commits through group commit)
    clock.failOnceOn("ledger-group-commit", new OutOfMemoryError("injected into the planner"));
    Supervisor supervisor = Supervisor.create();

    loops = ControlLoops.start(ledger, planner, new dev.conveyor.reconcile.schedule.CaptureSchedules(ledger,
        new CaptureTables(ledger), planner), maintenance(), supervisor, null, List.of());
    await().atMost(Duration.ofSeconds(30)).until(() -> ledger.jobs().children(root).stream()
        .anyMatch(j -> j.kind() == JobKind.PLAN_SNAPSHOT && j.state() == JobState.WAITING));
    assertThat(clock.faultPending()).isFalse();
    // the planner classes lease concurrently: the one group commit that took the injected Error fails each
    // lease it carried, once
    assertThat(java.util.Arrays.stream(CapturePlanner.PlannerClass.values())
        .mapToLong(c -> supervisor.failures(c.loopName())).boxed().toList()).contains(1L).allMatch(n -> n <= 1);
    assertThat(logs.list).anyMatch(e -> e.getFormattedMessage().matches(
        "loop 'capture-planner-[a-z]+' failed \\(1 in a row\\).*"));
    assertThat(logs.list).anyMatch(e -> e.getThrowableProxy() != null
        && e.getThrowableProxy().getMessage().equals("injected into the planner"));
  }

  @Test
  void anErrorInTheMiddleOfPlanningEndsTheAttemptAtOnceAndTheRetryPlans() throws Exception {
    CapturePlanner planner = plannerWithOneCapture();
    String root = capture;
    // the planner thread's own first transaction comes after its lease, in the middle of planning the table
    clock.failOnceOn(ControlLoops.PLANNER, new OutOfMemoryError("injected in the middle of planning"));
    Supervisor supervisor = Supervisor.create();

    loops = ControlLoops.start(ledger, planner, new dev.conveyor.reconcile.schedule.CaptureSchedules(ledger,
        new CaptureTables(ledger), planner), maintenance(), supervisor, null, List.of());
    await().atMost(Duration.ofSeconds(30)).until(() -> supervisor.failures(ControlLoops.PLANNER) == 1);
    // the attempt ended at once, counted and queued for its retry, instead of waiting out its lease
    await().atMost(Duration.ofSeconds(30)).until(() -> ledger.jobs().get(root).state() == JobState.QUEUED);
    assertThat(ledger.jobs().get(root).attempts()).isEqualTo(1);
    assertThat(ledger.jobs().get(root).lastError()).contains("OutOfMemoryError");
    clock.advance(Duration.ofSeconds(5)); // past the retry's backoff
    await().atMost(Duration.ofSeconds(30)).until(() -> ledger.jobs().children(root).stream()
        .anyMatch(j -> j.kind() == JobKind.PLAN_SNAPSHOT && j.state() == JobState.WAITING));
  }

  @Test
  void anErrorInTheMaintenanceLoopIsLoggedAndItsReaperReclaimsAfterIt() {
    CaptureTables tables = new CaptureTables(ledger);
    CapturePlanner planner = new CapturePlanner(ledger, tables, new CapturePlanner.Limits(1, 1L << 30));
    tables.register("t", ConnectorSpec.newBuilder().setKind(ConnectorSpec.Kind.PARQUET_DIRECTORY)
        .setLocation(tableDir.toString()).build());
    String root = planner.startCapture("t", "", CapturePolicy.newBuilder().setFileStats(true).build());
    // a worker leases the root and vanishes: only the reaper brings the job back
    assertThat(ledger.jobs().leaseOne(new LeaseRequest("vanished", Set.of(JobKind.PLAN_TABLE), Set.of(), Set.of(),
        Set.of(), 1, Duration.ofSeconds(1)))).isPresent();
    clock.advance(Duration.ofSeconds(2));
    clock.failOnceOn(ControlLoops.MAINTENANCE, new StackOverflowError("injected into the reaper"));
    Supervisor supervisor = Supervisor.create();

    loops = ControlLoops.start(ledger, planner, new dev.conveyor.reconcile.schedule.CaptureSchedules(ledger,
        new CaptureTables(ledger), planner), maintenance(), supervisor, null, List.of());
    await().atMost(Duration.ofSeconds(30)).until(() -> ledger.jobs().get(root).state() == JobState.QUEUED);
    assertThat(clock.faultPending()).isFalse();
    assertThat(supervisor.failures(ControlLoops.MAINTENANCE)).isEqualTo(1);
    assertThat(logged("loop 'maintenance-leader' failed (1 in a row)")).isTrue();
  }

  @Test
  void aLoopThatKeepsFailingTurnsHealthNotServingAndCountsInMetricsUntilItRecovers() throws Exception {
    Supervisor supervisor = new Supervisor(new Supervisor.Policy(Duration.ofMillis(10), Duration.ofMillis(20), 3,
        Duration.ofHours(1)), Clock.systemUTC(), Supervisor.Sleeper.REAL);
    Path data = Files.createDirectories(dir.resolve("node"));
    try (ControlPlane plane = ControlPlane.start(new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data,
        "127.0.0.1", 0, ControlPlane.AuthMode.LOCAL, null, "conveyor", false, 1, new CapturePlanner.Limits(2, 1L << 30),
        null, 0, 0), supervisor)) {
      ManagedChannel channel = NettyChannelBuilder.forAddress("127.0.0.1", plane.port()).usePlaintext().build();
      try {
        var health = HealthGrpc.newBlockingStub(channel); // probes need no token
        assertThat(status(health, "")).isEqualTo(ServingStatus.SERVING);
        for (int i = 0; i < 3; i++) {
          String n = "injected " + i;
          supervisor.once("flaky", () -> {
            throw new NoSuchMethodError(n);
          });
        }
        await().atMost(Duration.ofSeconds(10)).until(() -> status(health, "") == ServingStatus.NOT_SERVING
            && status(health, "conveyor.reconcile.ReconcileControl") == ServingStatus.NOT_SERVING);
        String metrics = HttpClient.newHttpClient().send(HttpRequest.newBuilder(
            URI.create("http://127.0.0.1:" + plane.httpPort() + "/metrics")).build(),
            HttpResponse.BodyHandlers.ofString()).body();
        assertThat(metrics).contains("conveyor_loop_failures_total{loop=\"flaky\"} 3.0")
            .contains("conveyor_loop_healthy{loop=\"flaky\"} 0.0");

        supervisor.once("flaky", () -> {});
        await().atMost(Duration.ofSeconds(10)).until(() -> status(health, "") == ServingStatus.SERVING
            && status(health, "conveyor.reconcile.ReconcileControl") == ServingStatus.SERVING);
      } finally {
        channel.shutdownNow();
      }
    }
  }

  private static ServingStatus status(HealthGrpc.HealthBlockingStub health, String service) {
    return health.check(HealthCheckRequest.newBuilder().setService(service).build()).getStatus();
  }
}
