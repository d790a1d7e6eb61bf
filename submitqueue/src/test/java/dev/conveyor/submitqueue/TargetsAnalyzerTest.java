package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.TargetsCommand;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * Two changes that touch different files but break the build together: one deletes src/lib.txt, the other
 * adds a file that needs it. The build (a script in a directory builds may read) fails when uses-lib.txt is
 * there without src/lib.txt. Under {@code paths} they are independent, each is built on a main without the
 * other, both land, and main is red; under {@code targets}, with a targets-command that knows the dependency,
 * the second is built on the first and refused, and main stays green.
 */
class TargetsAnalyzerTest extends LedgerTestBase {
  /** Each changed path is its own target; src/lib.txt and uses-lib.txt are also the target //lib. */
  private static final String TARGETS = "sed 's|^|//|' \"$CONVEYOR_CHANGED_PATHS\"; "
      + "grep -qxE 'src/lib.txt|uses-lib.txt' \"$CONVEYOR_CHANGED_PATHS\" && echo //lib; true";
  @TempDir Path tmp;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + tmp.resolve("ledger.db");
  }

  private SubmitQueueHarness harness(SubmitQueueConfig.ConflictAnalyzer analyzer) throws Exception {
    Path gates = Files.createDirectories(tmp.resolve("sq").resolve("gates"));
    Path build = Files.writeString(gates.resolve("cross.sh"), "while [ -e '" + gates.resolve("hold") + "' ]; do"
        + " sleep 0.02; done\nif [ -e uses-lib.txt ] && [ ! -e src/lib.txt ]; then"
        + " echo 'uses-lib.txt needs src/lib.txt' >&2; exit 5; fi\n");
    return new SubmitQueueHarness(tmp.resolve("sq"), ledger, StageDecorator.NONE, 4, analyzer, 2,
        q -> q.withBuildCommand("sh " + build),
        queues -> analyzer == SubmitQueueConfig.ConflictAnalyzer.TARGETS
            ? queues.withTargets("app", new TargetsCommand(TARGETS, Duration.ofMinutes(1))) : queues);
  }

  @Test
  void aTargetsCommandThatFailsOrPrintsNonsenseEndsTheChangeSayingSo() throws Exception {
    Path gates = Files.createDirectories(tmp.resolve("sq").resolve("gates"));
    try (SubmitQueueHarness sq = new SubmitQueueHarness(tmp.resolve("sq"), ledger, StageDecorator.NONE, 4,
        SubmitQueueConfig.ConflictAnalyzer.TARGETS, 2, q -> q, queues -> queues.withTargets("app",
            new TargetsCommand("if [ -e nonsense.txt ]; then echo 'two words'; else exit 3; fi", Duration.ofMinutes(1))))) {
      String failing = sq.land(changeUri("f", sq.repos.commit("f", "main", "f", files("f.txt", "f\n"))));
      RequestInfo end = sq.awaitTerminal(failing);
      assertThat(end.getState()).isEqualTo(State.ERROR);
      assertThat(end.getReason()).contains("cannot tell the change's affected targets: targets-command exited 3");
      String nonsense = sq.land(changeUri("n", sq.repos.commit("n", "main", "n", files("nonsense.txt", "n\n"))));
      assertThat(sq.awaitTerminal(nonsense).getReason()).contains("printed a line that is not a target");
      assertThat(sq.buildsMade()).isZero();
    }
  }

  private RequestInfo[] landBoth(SubmitQueueHarness sq) {
    return landBoth(sq, 0);
  }

  /** {@code together}: builds are held until that many run at once (both built on the same main). */
  private RequestInfo[] landBoth(SubmitQueueHarness sq, int together) {
    Map<String, String> delete = new HashMap<>();
    delete.put("src/lib.txt", null);
    try {
      if (together > 0) {
        sq.holdBuilds();
      }
      String a = sq.land(changeUri("drop-lib", sq.repos.commit("drop-lib", "main", "drop lib", delete)));
      String b = sq.land(changeUri("use-lib", sq.repos.commit("use-lib", "main", "use lib",
          files("uses-lib.txt", "needs src/lib.txt\n"))));
      if (together > 0) {
        org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> sq.runningBuilds() == together);
        sq.releaseBuilds();
      }
      return new RequestInfo[] {sq.awaitTerminal(a), sq.awaitTerminal(b)};
    } catch (java.io.IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }

  /**
   * The re-verify rule: one change adds src/lib2.txt, the next starts needing it (no path in common). The
   * second is built on a main without the first and fails; it is built once more on the new main before it
   * would fail, and lands.
   */
  @Test
  void underPathsAChangeBuiltBeforeTheChangeItNeedsLandedIsBuiltAgainOnTheNewMain() throws Exception {
    Path gates = Files.createDirectories(tmp.resolve("sq").resolve("gates"));
    Path build = Files.writeString(gates.resolve("needs.sh"), "while [ -e '" + gates.resolve("hold")
        + "' ]; do sleep 0.02; done\nif [ -e uses-lib2.txt ] && [ ! -e src/lib2.txt ]; then"
        + " echo 'uses-lib2.txt needs src/lib2.txt' >&2; exit 6; fi\n");
    try (SubmitQueueHarness sq = new SubmitQueueHarness(tmp.resolve("sq"), ledger, StageDecorator.NONE, 4,
        SubmitQueueConfig.ConflictAnalyzer.PATHS, 2, q -> q.withBuildCommand("sh " + build))) {
      sq.holdBuilds(); // both are built on the old main, whichever build would have started first
      String a = sq.land(changeUri("add-lib2", sq.repos.commit("add-lib2", "main", "add lib2",
          files("src/lib2.txt", "lib2\n"))));
      String b = sq.land(changeUri("use-lib2", sq.repos.commit("use-lib2", "main", "use lib2",
          files("uses-lib2.txt", "needs src/lib2.txt\n"))));
      org.awaitility.Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> sq.runningBuilds() == 2);
      sq.releaseBuilds();
      assertThat(sq.awaitTerminal(a).getState()).isEqualTo(State.LANDED);
      RequestInfo second = sq.awaitTerminal(b);
      assertThat(second.getState()).as(second.getReason()).isEqualTo(State.LANDED);
      assertThat(GitCli.run(sq.repos.origin(), "ls-tree", "-r", "--name-only", "main")).contains("src/lib2.txt",
          "uses-lib2.txt");
      assertThat(sq.buildsMade()).as("the first, the second on the old main, the second again").isEqualTo(3);
    }
  }

  private static boolean mainIsRed(SubmitQueueHarness sq) {
    String files = GitCli.run(sq.repos.origin(), "ls-tree", "-r", "--name-only", "main");
    return files.contains("uses-lib.txt") && !files.contains("src/lib.txt");
  }

  @Test
  void underPathsBothLandAndMainTurnsRed() throws Exception {
    try (SubmitQueueHarness sq = harness(SubmitQueueConfig.ConflictAnalyzer.PATHS)) {
      // independent under paths: both are built at once on the same main (held so a slow machine cannot
      // land the first before the second's build starts, which would build the second on the new main)
      RequestInfo[] end = landBoth(sq, 2);
      assertThat(end).extracting(RequestInfo::getState).containsExactly(State.LANDED, State.LANDED);
      assertThat(mainIsRed(sq)).as("the risk the paths analyzer carries").isTrue();
    }
  }

  @Test
  void underTargetsTheSecondIsBuiltOnTheFirstAndMainStaysGreen() throws Exception {
    try (SubmitQueueHarness sq = harness(SubmitQueueConfig.ConflictAnalyzer.TARGETS)) {
      RequestInfo[] end = landBoth(sq);
      assertThat(end[0].getState()).isEqualTo(State.LANDED);
      assertThat(end[1].getState()).isEqualTo(State.ERROR);
      assertThat(end[1].getReason()).contains("exited 5");
      assertThat(mainIsRed(sq)).isFalse();
      assertThat(sq.status(end[1].getRequestId()).getRequest().toString()).isNotEmpty();
    }
  }
}
