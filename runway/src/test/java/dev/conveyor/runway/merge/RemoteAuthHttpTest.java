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
import dev.conveyor.runway.testing.GitHttpServer;
import dev.conveyor.runway.testing.GitRepos;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Map;
import org.eclipse.jgit.lib.ObjectId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Runway's fetch, push and staging refs against git's own http-backend on loopback, behind a token. */
class RemoteAuthHttpTest {
  @TempDir Path tmp;
  GitRepos repos;
  GitHttpServer server;
  GitMerger merger;

  @BeforeEach
  void start() throws Exception {
    repos = GitRepos.create(tmp.resolve("repos"), Map.of("README.md", "hello\n"));
    server = GitHttpServer.start(tmp.resolve("repos"));
    merger = new GitMerger(new RepositoryCache(tmp.resolve("cache")), Clock.systemUTC());
  }

  @AfterEach
  void stop() {
    merger.close();
    server.close();
  }

  private QueueConfig queue(RemoteAuth auth) {
    return QueueConfig.of("app", server.url("origin.git"), "main", Strategy.REBASE).withAuth(auth);
  }

  private MergeOutcome merge(QueueConfig queue, String branch, String file) throws Exception {
    String sha = repos.commit(branch, "main", branch, files(file, branch + "\n"));
    MergeRequest request = MergeRequest.newBuilder().setId(branch).setQueueName("app").addSteps(MergeStep.newBuilder()
        .setStepId(branch).setStrategy(Strategy.REBASE).setChange(Change.newBuilder().addUris(changeUri(branch, sha))))
        .build();
    return merger.merge(MergePlans.plan(request, RunwayQueues.of(queue), false));
  }

  @Test
  void aBearerTokenFromAFileFetchesPushesAndStagesAndARotatedFileIsTakenAtOnce() throws Exception {
    Path tokenFile = tmp.resolve("token");
    Files.writeString(tokenFile, "s3cr3t-one\n");
    server.requireBearer("s3cr3t-one");
    QueueConfig queue = queue(new RemoteAuth.Bearer(RemoteAuth.Secret.ofFile(tokenFile)));

    assertThat(merge(queue, "a", "a.txt")).isInstanceOf(MergeOutcome.Succeeded.class);
    assertThat(GitCli.run(repos.origin(), "ls-tree", "--name-only", "main")).contains("a.txt");

    ObjectId tip = ObjectId.fromString(repos.tip("main"));
    merger.stage(queue, tip, StagingRefs.of("app", "b1#abc"));
    assertThat(GitCli.run(repos.origin(), "for-each-ref", "refs/conveyor/")).contains("refs/conveyor/app/b1-abc");
    merger.unstage(queue, StagingRefs.of("app", "b1#abc"), tip);
    assertThat(GitCli.run(repos.origin(), "for-each-ref", "refs/conveyor/")).isBlank();

    server.requireBearer("s3cr3t-two"); // the host rotated the token; so did the file's owner
    Files.writeString(tokenFile, "s3cr3t-two\n");
    assertThat(merge(queue, "b", "b.txt")).isInstanceOf(MergeOutcome.Succeeded.class);
  }

  @Test
  void aWrongTokenFailsWithoutPrintingItAndPushesNothing() throws Exception {
    server.requireBearer("the-right-one");
    Path tokenFile = tmp.resolve("token");
    Files.writeString(tokenFile, "a-wrong-token");
    QueueConfig queue = queue(new RemoteAuth.Bearer(RemoteAuth.Secret.ofFile(tokenFile)));
    String before = repos.tip("main");
    assertThatThrownBy(() -> merge(queue, "c", "c.txt")).isInstanceOf(java.io.IOException.class)
        .satisfies(e -> assertThat(e.toString()).doesNotContain("a-wrong-token").doesNotContain("the-right-one"));
    assertThat(repos.tip("main")).isEqualTo(before);
    assertThat(server.refused.get()).isPositive();
    assertThat(queue.toString()).doesNotContain("a-wrong-token").contains("file " + tokenFile);
  }

  @Test
  void aRedirectIsNeverFollowedSoTheTokenNeverReachesAnotherHost() throws Exception {
    server.requireBearer("t0ken");
    try (GitHttpServer elsewhere = GitHttpServer.start(tmp.resolve("repos"))) {
      elsewhere.requireBearer("t0ken");
      server.redirectTo(elsewhere.url("").replaceAll("/git/$", "").replace("127.0.0.1", "localhost"));
      Path tokenFile = Files.writeString(tmp.resolve("token"), "t0ken");
      QueueConfig queue = queue(new RemoteAuth.Bearer(RemoteAuth.Secret.ofFile(tokenFile)));
      assertThatThrownBy(() -> merge(queue, "r", "r.txt")).isInstanceOf(java.io.IOException.class);
      assertThat(elsewhere.withCredentials.get()).as("requests carrying the token at the other host").isZero();
    }
  }

  @Test
  void basicAuthWithAPasswordFromTheEnvironment() throws Exception {
    server.requireBasic("x-access-token", "pa55");
    QueueConfig queue = queue(new RemoteAuth.Basic("x-access-token", RemoteAuth.Secret.ofEnv("GIT_PASSWORD", "pa55")));
    assertThat(merge(queue, "d", "d.txt")).isInstanceOf(MergeOutcome.Succeeded.class);
    assertThat(queue.toString()).doesNotContain("pa55");
    assertThatThrownBy(() -> merge(queue(RemoteAuth.NONE), "e", "e.txt")).isInstanceOf(java.io.IOException.class);
  }
}
