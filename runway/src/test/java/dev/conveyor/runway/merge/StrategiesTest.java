package dev.conveyor.runway.merge;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.runway.testing.GitRepos;
import java.nio.file.Path;
import java.util.Map;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;

/** Each strategy on one change leaves the target as the equivalent command-line git would. */
class StrategiesTest extends MergerTestBase {

  @ParameterizedTest
  @EnumSource(value = Strategy.class, names = {"REBASE", "SQUASH_REBASE", "MERGE", "PROMOTE", "DEFAULT"})
  void singleChangeMatchesCommandLineGit(Strategy strategy) throws Exception {
    boolean fastForward = strategy == Strategy.PROMOTE;
    if (!fastForward) {
      repos.commit("main", "main moves on", Map.of("README.md", "hello, world\n"));
    }
    String base = fastForward ? "main" : "main~1";
    repos.commit("feature", base, "first line", Map.of("src/app.txt", "ONE\ntwo\nthree\nfour\nfive\n"));
    String head = repos.commit("feature", "add notes", GitRepos.files("src/notes.txt", "notes\n", "src/lib.txt", null));
    Path cliOrigin = repos.copyOfOrigin("cli.git");
    int before = repos.count("main");

    MergeOutcome outcome = merge(request("r1", step("s1", strategy, GitRepos.changeUri("feature", head))));

    assertThat(outcome).isInstanceOf(MergeOutcome.Succeeded.class);
    var succeeded = (MergeOutcome.Succeeded) outcome;
    assertThat(succeeded.pushed()).isTrue();
    assertThat(succeeded.steps()).singleElement().satisfies(s -> {
      assertThat(s.stepId()).isEqualTo("s1");
      assertThat(s.outputs()).singleElement().satisfies(o -> assertThat(o.name()).isEqualTo(repos.tip("main")));
    });

    Path cliWork = tmp.resolve("cli-work");
    GitCli.run(tmp, "clone", "-q", cliOrigin.toString(), cliWork.toString());
    switch (strategy) {
      case REBASE, DEFAULT -> GitCli.run(cliWork, "cherry-pick", GitCli.run(cliWork, "merge-base", "main",
          "origin/feature") + "..origin/feature");
      case SQUASH_REBASE -> {
        GitCli.run(cliWork, "merge", "--squash", "-q", "origin/feature");
        GitCli.run(cliWork, "commit", "-q", "-C", "origin/feature");
      }
      case MERGE -> GitCli.run(cliWork, "merge", "--no-ff", "-q", "-m", "merge feature", "origin/feature");
      case PROMOTE -> GitCli.run(cliWork, "merge", "--ff-only", "-q", "origin/feature");
      default -> throw new IllegalStateException();
    }
    GitCli.run(cliWork, "push", "-q", "origin", "main");

    assertThat(repos.tree("main")).isEqualTo(GitCli.run(cliOrigin, "rev-parse", "main^{tree}"));
    assertThat(repos.count("main")).isEqualTo(Integer.parseInt(GitCli.run(cliOrigin, "rev-list", "--count", "main")));
    int expectedNew = switch (strategy) {
      case REBASE, DEFAULT, PROMOTE -> 2;
      case SQUASH_REBASE -> 1;
      case MERGE -> 3;
      default -> throw new IllegalStateException();
    };
    assertThat(repos.count("main")).isEqualTo(before + expectedNew);
    assertThat(repos.mainUpdates()).as("one ref update per merge on top of the set-up pushes").isEqualTo(
        fastForward ? 2 : 3);
  }

  @ParameterizedTest
  @EnumSource(value = Strategy.class, names = {"REBASE", "SQUASH_REBASE"})
  void authorAndCommitterArePreserved(Strategy strategy) throws Exception {
    repos.commit("main", "main moves on", Map.of("README.md", "hello, world\n"));
    String head = repos.commit("feature", "main~1", "first line", Map.of("src/app.txt", "1\n"));
    String original = GitCli.run(repos.origin(), "log", "-1", "--format=%an|%ae|%ad|%cn|%ce|%cd|%B", head);

    merge(request("r1", step("s1", strategy, GitRepos.changeUri("feature", head))));

    assertThat(GitCli.run(repos.origin(), "log", "-1", "--format=%an|%ae|%ad|%cn|%ce|%cd|%B", "main"))
        .isEqualTo(original);
    assertThat(repos.tip("main")).isNotEqualTo(head);
  }

  @ParameterizedTest
  @EnumSource(value = Strategy.class, names = {"REBASE", "SQUASH_REBASE"})
  void changeBasedOnTheTipLandsAsTheVeryCommit(Strategy strategy) throws Exception {
    String head = repos.commit("feature", "main", "on the tip", Map.of("src/app.txt", "1\n"));

    merge(request("r1", step("s1", strategy, GitRepos.changeUri("feature", head))));

    assertThat(repos.tip("main")).isEqualTo(head);
  }
}
