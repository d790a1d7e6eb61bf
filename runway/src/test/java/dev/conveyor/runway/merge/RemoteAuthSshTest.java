package dev.conveyor.runway.merge;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.base.Change;
import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.queue.RemoteAuth;
import dev.conveyor.runway.queue.RunwayQueues;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.runway.testing.GitRepos;
import dev.conveyor.runway.testing.SshGitServer;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runway's fetch, push and staging refs over SSH to OpenSSH's server on loopback: one key, known hosts checked. */
class RemoteAuthSshTest {
  @TempDir Path tmp;
  GitRepos repos;
  SshGitServer sshd;
  GitMerger merger;

  @BeforeEach
  void start() throws Exception {
    sshd = SshGitServer.start(tmp.resolve("sshd"));
    repos = GitRepos.create(tmp.resolve("repos"), Map.of("README.md", "hello\n"));
    merger = new GitMerger(new RepositoryCache(tmp.resolve("cache")), Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    if (merger != null) {
      merger.close();
    }
    if (sshd != null) {
      sshd.close();
    }
  }

  private MergeOutcome merge(QueueConfig queue, String branch, String file) throws Exception {
    String sha = repos.commit(branch, "main", branch, files(file, branch + "\n"));
    MergeRequest request = MergeRequest.newBuilder().setId(branch).setQueueName("app").addSteps(MergeStep.newBuilder()
        .setStepId(branch).setStrategy(Strategy.REBASE).setChange(Change.newBuilder().addUris(changeUri(branch, sha))))
        .build();
    return merger.merge(MergePlans.plan(request, RunwayQueues.of(queue), false));
  }

  @Test
  void aKeyAndKnownHostsFetchPushAndStage() throws Exception {
    QueueConfig queue = QueueConfig.of("app", sshd.url(repos.origin()), "main", Strategy.REBASE,
        new RemoteAuth.Ssh(sshd.clientKey(), sshd.knownHosts()));
    assertThat(merge(queue, "a", "a.txt")).isInstanceOf(MergeOutcome.Succeeded.class);
    assertThat(GitCli.run(repos.origin(), "ls-tree", "--name-only", "main")).contains("a.txt");
    ObjectId tip = ObjectId.fromString(repos.tip("main"));
    merger.stage(queue, tip, "refs/conveyor/app/b1-1");
    assertThat(GitCli.run(repos.origin(), "for-each-ref", "refs/conveyor/")).contains("refs/conveyor/app/b1-1");
    merger.unstage(queue, "refs/conveyor/app/b1-1", tip);
    assertThat(GitCli.run(repos.origin(), "for-each-ref", "refs/conveyor/")).isBlank();
  }

  @Test
  void aHostKeyTheKnownHostsFileDoesNotListIsRefusedAndNothingIsPushed() throws Exception {
    QueueConfig queue = QueueConfig.of("app", sshd.url(repos.origin()), "main", Strategy.REBASE,
        new RemoteAuth.Ssh(sshd.clientKey(), sshd.wrongKnownHosts()));
    String before = repos.tip("main");
    assertThatThrownBy(() -> merge(queue, "b", "b.txt")).isInstanceOf(java.io.IOException.class);
    assertThat(repos.tip("main")).isEqualTo(before);
  }
}
