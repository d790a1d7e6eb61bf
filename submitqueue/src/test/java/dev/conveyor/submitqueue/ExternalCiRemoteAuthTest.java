package dev.conveyor.submitqueue;

import static dev.conveyor.runway.testing.GitRepos.changeUri;
import static dev.conveyor.runway.testing.GitRepos.files;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.submitqueue.CiBuild;
import dev.conveyor.api.submitqueue.ListPendingRequest;
import dev.conveyor.api.submitqueue.ReportCheckRequest;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.queue.RemoteAuth;
import dev.conveyor.runway.testing.GitCli;
import dev.conveyor.runway.testing.GitHttpServer;
import dev.conveyor.runway.testing.SshGitServer;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.pipeline.StageDecorator;
import dev.conveyor.submitqueue.testing.SubmitQueueHarness;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.function.Function;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The whole queue — check, staging refs for an external CI, merge — against remotes that need credentials:
 * git's http-backend behind a bearer token, and OpenSSH's server with a key and known hosts. The test is the
 * CI: it reads what waits, checks the staging ref on the origin and reports.
 */
class ExternalCiRemoteAuthTest extends LedgerTestBase {
  @TempDir Path tmp;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + tmp.resolve("ledger.db");
  }

  @Test
  void overHttpWithABearerToken() throws Exception {
    Path token = Files.writeString(tmp.resolve("token"), "http-t0ken\n");
    try (GitHttpServer http = GitHttpServer.start(tmp.resolve("sq").resolve("repos"))) {
      http.requireBearer("http-t0ken");
      landThroughExternalCi(git -> QueueConfig.of("app", http.url("origin.git"), "main", git.defaultStrategy())
          .withAuth(new RemoteAuth.Bearer(RemoteAuth.Secret.ofFile(token))));
    }
  }

  @Test
  void overSshWithAKeyAndKnownHosts() throws Exception {
    try (SshGitServer sshd = SshGitServer.start(tmp.resolve("sshd"))) {
      Path origin = tmp.resolve("sq").resolve("repos").resolve("origin.git");
      Path knownHosts = sshd.knownHosts();
      landThroughExternalCi(git -> QueueConfig.of("app", sshd.url(origin), "main", git.defaultStrategy(),
          new RemoteAuth.Ssh(sshd.clientKey(), knownHosts)));
    }
  }

  private void landThroughExternalCi(Function<QueueConfig, QueueConfig> remote) {
    try (SubmitQueueHarness sq = new SubmitQueueHarness(tmp.resolve("sq"), ledger, StageDecorator.NONE, 4,
        SubmitQueueConfig.ConflictAnalyzer.PATHS, 2, q -> q.withGit(remote.apply(q.git()))
            .withRunner(SubmitQueueConfig.Runner.external(List.of("ci"))))) {
      String head = sq.repos.commit("feature", "main", "feature", files("feature.txt", "f\n"));
      String id = sq.land(changeUri("feature", head));
      CiBuild build = Awaitility.await().atMost(Duration.ofSeconds(60)).until(
          () -> sq.ci.listPending(ListPendingRequest.getDefaultInstance()).getBuildsList(), l -> l.size() == 1).get(0);
      assertThat(GitCli.run(sq.repos.origin(), "for-each-ref", "--format=%(refname) %(objectname)", "refs/conveyor/"))
          .contains(build.getRef() + " " + build.getSha());
      assertThat(build.getRemote()).doesNotContain("t0ken");
      sq.ci.reportCheck(ReportCheckRequest.newBuilder().setBuildId(build.getBuildId()).setPassed(true).build());
      assertThat(sq.awaitTerminal(id).getState()).isEqualTo(State.LANDED);
      assertThat(GitCli.run(sq.repos.origin(), "ls-tree", "--name-only", "main")).contains("feature.txt");
      Awaitility.await().atMost(Duration.ofSeconds(30)).until(() -> GitCli.run(sq.repos.origin(), "for-each-ref",
          "refs/conveyor/").isBlank());
    }
  }
}
