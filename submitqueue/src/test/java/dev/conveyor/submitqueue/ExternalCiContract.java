package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.ErrorStatus;
import dev.conveyor.api.submitqueue.CiBuild;
import dev.conveyor.api.submitqueue.GetBuildRequest;
import dev.conveyor.api.submitqueue.ListPendingRequest;
import dev.conveyor.api.submitqueue.ReportCheckRequest;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * A queue whose builds run in an external CI (build-runner = external), end to end on a real origin: the
 * test plays the CI, polling ListPending, reading the staging ref from the origin and reporting checks.
 */
public abstract class ExternalCiContract extends LedgerTestBase {
  private static final Duration TIMEOUT = Duration.ofMinutes(10);
  @TempDir
  Path tmp;

  SubmitQueueHarness sq;

  @BeforeEach
  void start() {
    sq = new SubmitQueueHarness(tmp, ledger, StageDecorator.NONE, 4, SubmitQueueConfig.ConflictAnalyzer.PATHS, 2,
        q -> q.withRunner(SubmitQueueConfig.Runner.external(List.of("unit", "lint"))).withBuildTimeout(TIMEOUT));
  }

  @AfterEach
  void stop() {
    sq.close();
  }

  private String land(String branch, String file, String content) {
    String head = sq.repos.commit(branch, "main", branch, files(file, content));
    return sq.land(changeUri(branch, head));
  }

  /** The one build waiting for CI (waits for it to appear). */
  private CiBuild pending() {
    return Awaitility.await().atMost(Duration.ofSeconds(60)).until(
        () -> sq.ci.listPending(ListPendingRequest.getDefaultInstance()).getBuildsList(), l -> l.size() == 1).get(0);
  }

  private CiBuild report(String buildId, String check, boolean passed, String url) {
    return sq.ci.reportCheck(ReportCheckRequest.newBuilder().setBuildId(buildId).setCheck(check).setPassed(passed)
        .setUrl(url).setReportedBy("buildkite").build());
  }

  private String originRefs() {
    return GitCli.run(sq.repos.origin(), "for-each-ref", "--format=%(refname) %(objectname)", "refs/conveyor/");
  }

  private boolean merged(String file) {
    return GitCli.run(sq.repos.origin(), "ls-tree", "--name-only", "main").contains(file);
  }

  @Test
  void aBuildIsACommitOnAStagingRefAndLandsWhenEveryRequiredCheckPassed() {
    String id = land("feature", "feature.txt", "new feature\n");
    CiBuild build = pending();
    assertThat(build.getQueue()).isEqualTo("app");
    assertThat(build.getRef()).startsWith("refs/conveyor/app/").endsWith("/" + build.getBuildId());
    assertThat(build.getRemote()).isEqualTo(sq.repos.originUrl());
    assertThat(build.getChecksList()).extracting(c -> c.getName() + "=" + c.getState())
        .containsExactly("unit=PENDING", "lint=PENDING");
    // what CI fetches: the staging ref on the origin, at the speculative tree (main plus the change)
    assertThat(originRefs()).contains(build.getRef() + " " + build.getSha());
    assertThat(GitCli.run(sq.repos.origin(), "show", build.getSha() + ":feature.txt")).isEqualToIgnoringWhitespace("new feature");
    assertThat(sq.runningBuilds()).as("no worker slot is held while CI works").isZero();

    CiBuild afterUnit = report(build.getBuildId(), "unit", true, "https://ci.example/b/1");
    assertThat(afterUnit.getState()).isEqualTo("WAITING");
    assertThat(report(build.getBuildId(), "unit", true, "https://ci.example/b/1").getState())
        .as("a redelivered report is answered as before").isEqualTo("WAITING");
    assertThat(sq.state(id)).isNotEqualTo(State.LANDED);
    assertThat(report(build.getBuildId(), "lint", true, "").getState()).isEqualTo("PASSED");

    assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.LANDED);
    assertThat(merged("feature.txt")).isTrue();
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> originRefs().isBlank());
    assertThat(sq.ci.listPending(ListPendingRequest.getDefaultInstance()).getBuildsList()).isEmpty();
  }

  @Test
  void checksReportedAtTheSameMomentBothCount() throws Exception {
    String id = land("together", "together.txt", "t\n");
    CiBuild build = pending();
    java.util.concurrent.CyclicBarrier start = new java.util.concurrent.CyclicBarrier(2);
    java.util.concurrent.ExecutorService two = java.util.concurrent.Executors.newFixedThreadPool(2);
    try {
      var unit = two.submit(() -> {
        start.await();
        return report(build.getBuildId(), "unit", true, "");
      });
      var lint = two.submit(() -> {
        start.await();
        return report(build.getBuildId(), "lint", true, "");
      });
      assertThat(List.of(unit.get().getState(), lint.get().getState())).contains("PASSED");
    } finally {
      two.shutdownNow();
    }
    assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.LANDED);
  }

  @Test
  void aFailedCheckEndsTheChangeInErrorNamingTheCheckAndItsUrl() {
    String id = land("bad", "bad.txt", "bad\n");
    CiBuild build = pending();
    CiBuild failed = report(build.getBuildId(), "lint", false, "https://ci.example/builds/77");
    assertThat(failed.getState()).isEqualTo("FAILED");
    RequestInfo end = sq.awaitTerminal(id);
    assertThat(end.getState()).isEqualTo(State.ERROR);
    assertThat(end.getReason()).contains("check 'lint' failed", "https://ci.example/builds/77", "buildkite");
    assertThat(merged("bad.txt")).isFalse();
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> originRefs().isBlank());
    assertThatThrownBy(() -> report(build.getBuildId(), "unit", true, ""))
        .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
          assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.FAILED_PRECONDITION);
          assertThat(e.getStatus().getDescription()).contains("already FAILED");
        });
  }

  @Test
  void aMissingVerdictTimesOutClearly() {
    String id = land("slow", "slow.txt", "slow\n");
    CiBuild build = pending();
    report(build.getBuildId(), "unit", true, "");
    clock.advance(TIMEOUT.plusSeconds(1)); // the ledger's clock: the parked build is due at its deadline
    RequestInfo end = sq.awaitTerminal(id);
    assertThat(end.getState()).isEqualTo(State.ERROR);
    assertThat(end.getReason()).contains("timed out after PT10M waiting for CI", "no verdict for lint",
        "unit passed");
    assertThat(sq.ci.getBuild(GetBuildRequest.newBuilder().setBuildId(build.getBuildId()).build()).getState())
        .isEqualTo("TIMED_OUT");
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> originRefs().isBlank());
  }

  @Test
  void reportsThatCannotBeRightAreRefusedNamingTheField() {
    land("x", "x.txt", "x\n");
    CiBuild build = pending();
    assertRefused(() -> report(build.getBuildId(), "unti", true, ""), Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT", "'unti' is not required", "[unit, lint]");
    assertRefused(() -> report(build.getBuildId(), "", true, ""), Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT", "requires checks [unit, lint]", "--check");
    assertRefused(() -> report(build.getBuildId(), "unit", true, "javascript:alert(1)"), Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT", "url:");
    assertRefused(() -> report(build.getBuildId(), "unit", true, "https://ci.example/" + "a".repeat(3000)),
        Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", "url: longer than 2048");
    assertRefused(() -> report("no-such-build", "unit", true, ""), Status.Code.NOT_FOUND, "BUILD_NOT_FOUND",
        "no external build 'no-such-build'");
    assertRefused(() -> sq.ci.reportCheck(ReportCheckRequest.newBuilder().setBuildId(build.getBuildId())
        .setCheck("unit").build()), Status.Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", "passed:");
    assertRefused(() -> sq.ci.reportCheck(ReportCheckRequest.newBuilder().setBuildId(build.getBuildId())
        .setCheck("unit").setPassed(true).setSha("0".repeat(40)).build()), Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT", "sha: build " + build.getBuildId() + " is commit " + build.getSha());
    assertRefused(() -> sq.ci.reportCheck(ReportCheckRequest.newBuilder().setBuildId(build.getBuildId())
        .setCheck("unit").setPassed(true).setReportedBy("r".repeat(300)).build()), Status.Code.INVALID_ARGUMENT,
        "INVALID_ARGUMENT", "reported_by");
    report(build.getBuildId(), "unit", true, "");
    assertRefused(() -> report(build.getBuildId(), "unit", false, ""), Status.Code.FAILED_PRECONDITION,
        "ALREADY_TERMINAL", "already reported passed");
    assertThat(sq.ci.getBuild(GetBuildRequest.newBuilder().setBuildId(build.getBuildId()).build()).getState())
        .as("refused reports change nothing").isEqualTo("WAITING");
  }

  @Test
  void aCancelledRequestsStagingRefIsRemovedAndLateReportsAreRefused() {
    String id = land("gone", "gone.txt", "gone\n");
    CiBuild build = pending();
    sq.gateway.cancel(dev.conveyor.api.submitqueue.CancelRequest.newBuilder().setRequestId(id).build());
    assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.CANCELLED);
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> originRefs().isBlank());
    Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> sq.ci.getBuild(GetBuildRequest.newBuilder()
        .setBuildId(build.getBuildId()).build()).getState().equals("ENDED"));
    assertRefused(() -> report(build.getBuildId(), "unit", true, ""), Status.Code.FAILED_PRECONDITION,
        "ALREADY_TERMINAL", "already ENDED");
  }

  private static void assertRefused(Runnable call, Status.Code code, String reason, String... message) {
    assertThatThrownBy(call::run).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      assertThat(ErrorStatus.reasonOf(e)).isEqualTo(reason);
      assertThat(e.getStatus().getDescription()).contains(message);
    });
  }
}
