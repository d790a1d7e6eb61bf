package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.submitqueue.LandRequest;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * verify = each-commit: a stack whose middle commit is red (it adds a BROKEN file the next commit removes)
 * would leave that commit on main's first-parent line under REBASE, built only at its tip; it is refused,
 * and the same stack squashed lands.
 */
class VerifyEachCommitTest extends LedgerTestBase {
  @TempDir Path tmp;
  SubmitQueueHarness sq;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + tmp.resolve("ledger.db");
  }

  @BeforeEach
  void start() {
    sq = new SubmitQueueHarness(tmp.resolve("sq"), ledger, StageDecorator.NONE, 4,
        SubmitQueueConfig.ConflictAnalyzer.PATHS, 2, q -> q.withVerify(SubmitQueueConfig.Verify.EACH_COMMIT));
  }

  @AfterEach
  void stop() {
    sq.close();
  }

  private String stackWithARedMiddle() {
    sq.repos.commit("stack", "main", "one", files("one.txt", "1\n"));
    sq.repos.commit("stack", "two: red", files("BROKEN", "x\n"));
    Map<String, String> fix = new HashMap<>(files("three.txt", "3\n"));
    fix.put("BROKEN", null);
    return sq.repos.commit("stack", "three: green again", fix);
  }

  private RequestInfo land(String sha, Strategy strategy) {
    String id = sq.gateway.land(LandRequest.newBuilder().setQueue("app").setStrategy(strategy)
        .setChange(Change.newBuilder().addUris(changeUri("stack", sha))).build()).getRequestId();
    return sq.awaitTerminal(id);
  }

  @Test
  void aStackThatWouldLandUnbuiltCommitsIsRefusedAndLandsSquashed() {
    String before = sq.repos.tip("main");
    String tip = stackWithARedMiddle();
    RequestInfo refused = land(tip, Strategy.REBASE);
    assertThat(refused.getState()).isEqualTo(State.ERROR);
    assertThat(refused.getReason()).contains("verify = each-commit", "3 commits on main", "REBASE",
        "--strategy SQUASH_REBASE");
    assertThat(sq.repos.tip("main")).isEqualTo(before);
    assertThat(sq.buildsMade()).as("refused before any build").isZero();

    RequestInfo squashed = land(tip, Strategy.SQUASH_REBASE);
    assertThat(squashed.getState()).as(squashed.getReason()).isEqualTo(State.LANDED);
    assertThat(GitCli.run(sq.repos.origin(), "rev-list", "--count", before + "..main").strip()).isEqualTo("1");
    assertThat(GitCli.run(sq.repos.origin(), "ls-tree", "--name-only", "main")).contains("three.txt")
        .doesNotContain("BROKEN");
  }

  @Test
  void aOneCommitChangeLandsAsUsual() {
    String sha = sq.repos.commit("single", "main", "single", files("single.txt", "s\n"));
    String id = sq.land(changeUri("single", sha));
    assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.LANDED);
  }
}
