package dev.conveyor.runway.merge;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.runway.testing.GitRepos;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.TreeFormatter;
import org.junit.jupiter.api.Test;

/**
 * Changes whose trees git fsck reports as broken: refused as a FAILED outcome naming the object and
 * the problem (not an IOException, which would be retried), and nothing is pushed.
 */
class MalformedChangeTest extends MergerTestBase {

  @Test
  void aDuplicateEntryIsRefusedOnFetchAndNothingIsPushed() throws Exception {
    String mainBefore = repos.tip("main");
    int updates = repos.mainUpdates();
    String evil = repos.commitRawTree("evil", "pwn", GitRepos.duplicateEntry(tmp.resolve("outside").toString()));
    String uri = changeUri("evil", evil);

    for (boolean dryRun : new boolean[] {true, false}) {
      MergeOutcome outcome = dryRun ? check(request("c", step("s", Strategy.REBASE, uri)))
          : merge(request("m", step("s", Strategy.REBASE, uri)));
      assertThat(outcome).isInstanceOf(MergeOutcome.Failed.class);
      assertThat(((MergeOutcome.Failed) outcome).reason()).matches("change " + java.util.regex.Pattern.quote(uri)
          + ": tree [0-9a-f]{40} is malformed: duplicateEntries \\(duplicate entry names\\)");
    }
    assertThat(repos.tip("main")).isEqualTo(mainBefore);
    assertThat(repos.mainUpdates()).isEqualTo(updates);
    // refused on fetch: the malformed objects never entered the cache
    Path cache = tmp.resolve("cache").resolve("app.git");
    assertThat(org.assertj.core.api.Assertions.catchThrowable(() -> GitCli.run(cache, "cat-file", "-e", evil)))
        .isInstanceOf(GitCli.GitFailed.class);
  }

  @Test
  void objectsAlreadyInTheCacheAreCheckedBeforeAnythingIsApplied() throws Exception {
    String evil = repos.commitRawTree("evil", "pwn", GitRepos.duplicateEntry("/tmp"));
    // a cache filled before fetch checks existed: command-line git fetches without fsck by default
    Path cache = tmp.resolve("cache").resolve("app.git");
    Files.createDirectories(cache.getParent());
    GitCli.run(tmp, "init", "-q", "--bare", cache.toString());
    GitCli.run(cache, "fetch", "-q", repos.originUrl(), "+refs/heads/*:refs/runway/origin/heads/*");
    assertThat(GitCli.run(cache, "cat-file", "-t", evil)).isEqualTo("commit");

    MergeOutcome outcome = merge(request("m", step("s", Strategy.SQUASH_REBASE, changeUri("evil", evil))));

    assertThat(outcome).isInstanceOf(MergeOutcome.Failed.class);
    assertThat(((MergeOutcome.Failed) outcome).reason()).contains("change " + changeUri("evil", evil) + ": tree ")
        .contains("is malformed: duplicateEntries");
    assertThat(repos.tip("main")).isNotEqualTo(evil);
  }

  @Test
  void aDotGitPathComponentIsRefused() throws Exception {
    String evil = repos.commitRawTree("hook", "hook", inserter -> {
      TreeFormatter hooks = new TreeFormatter();
      hooks.append("post-checkout", FileMode.EXECUTABLE_FILE,
          inserter.insert(Constants.OBJ_BLOB, "#!/bin/sh\ntouch /tmp/owned\n".getBytes(StandardCharsets.UTF_8)));
      TreeFormatter git = new TreeFormatter();
      git.append("hooks", FileMode.TREE, inserter.insert(hooks));
      TreeFormatter root = new TreeFormatter();
      root.append(".GIT", FileMode.TREE, inserter.insert(git));
      return inserter.insert(root);
    });

    MergeOutcome outcome = merge(request("m", step("s", Strategy.REBASE, changeUri("hook", evil))));

    assertThat(((MergeOutcome.Failed) outcome).reason()).contains("is malformed: hasDotgit");
  }

  @Test
  void aGitmodulesFileThatFsckRefusesIsNotLanded() throws Exception {
    String mainBefore = repos.tip("main");
    String evil = repos.commit("mods", "main", "submodule", GitRepos.files(".gitmodules",
        "[submodule \"x\"]\n\tpath = x\n\turl = --upload-pack=touch${IFS}/tmp/owned\n"));

    MergeOutcome outcome = merge(request("m", step("s", Strategy.REBASE, changeUri("mods", evil))));

    assertThat(outcome).isInstanceOf(MergeOutcome.Failed.class);
    assertThat(((MergeOutcome.Failed) outcome).reason()).startsWith("change " + changeUri("mods", evil) + ": blob ")
        .contains("is malformed: gitmodulesUrl");
    assertThat(repos.tip("main")).isEqualTo(mainBefore);
  }

  @Test
  void aWellFormedGitmodulesFileStillLands() throws Exception {
    String good = repos.commit("mods", "main", "submodule", GitRepos.files(".gitmodules",
        "[submodule \"lib\"]\n\tpath = lib\n\turl = https://example.com/lib.git\n"));

    MergeOutcome outcome = merge(request("m", step("s", Strategy.REBASE, changeUri("mods", good))));

    assertThat(outcome).isInstanceOf(MergeOutcome.Succeeded.class);
    assertThat(repos.tip("main")).isEqualTo(good);
  }

  @Test
  void aGoodChangeStillLandsWithChecksOn() throws Exception {
    String good = repos.commit("good", "main", "good", GitRepos.files("docs.txt", "docs\n"));

    MergeOutcome outcome = merge(request("m", step("s", Strategy.REBASE, changeUri("good", good))));

    assertThat(outcome).isInstanceOf(MergeOutcome.Succeeded.class);
    assertThat(repos.tip("main")).isEqualTo(good);
  }
}
