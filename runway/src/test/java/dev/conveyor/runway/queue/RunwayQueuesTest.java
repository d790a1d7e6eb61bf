package dev.conveyor.runway.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.base.Strategy;
import java.io.StringReader;
import java.util.Properties;
import org.junit.jupiter.api.Test;

class RunwayQueuesTest {

  private static RunwayQueues parse(String text) throws Exception {
    Properties p = new Properties();
    p.load(new StringReader(text));
    return RunwayQueues.parse(p);
  }

  @Test
  void readsQueuesWithDefaults() throws Exception {
    RunwayQueues queues = parse("""
        queue.app.remote = /srv/git/app.git
        queue.app.remotes.fork = /srv/git/fork.git
        queue.docs.remote = /srv/git/docs.git
        queue.docs.branch = trunk
        queue.docs.strategy = squash_rebase
        queue.docs.push-attempts = 5
        """);
    QueueConfig app = queues.find("app").orElseThrow();
    assertThat(app.branch()).isEqualTo("main");
    assertThat(app.defaultStrategy()).isEqualTo(Strategy.REBASE);
    assertThat(app.remotes()).containsEntry("origin", "/srv/git/app.git").containsEntry("fork", "/srv/git/fork.git");
    QueueConfig docs = queues.find("docs").orElseThrow();
    assertThat(docs.targetRef()).isEqualTo("refs/heads/trunk");
    assertThat(docs.resolve(Strategy.DEFAULT)).isEqualTo(Strategy.SQUASH_REBASE);
    assertThat(docs.resolve(Strategy.MERGE)).isEqualTo(Strategy.MERGE);
    assertThat(docs.pushAttempts()).isEqualTo(5);
  }

  @Test
  void relativeRepositoryPathsAreResolvedAgainstTheQueuesFile(@org.junit.jupiter.api.io.TempDir java.nio.file.Path dir)
      throws Exception {
    java.nio.file.Path file = dir.resolve("conf/queues.properties");
    java.nio.file.Files.createDirectories(file.getParent());
    java.nio.file.Path key = java.nio.file.Files.writeString(dir.resolve("key"), "k");
    java.nio.file.Path hosts = java.nio.file.Files.writeString(dir.resolve("known_hosts"), "h");
    java.nio.file.Files.writeString(file, "queue.a.remote = ../repos/a.git\nqueue.b.remote = https://git.example/b.git\n"
        + "queue.c.remote = git@example.com:c.git\nqueue.c.remotes.fork = forks/c.git\n"
        + "queue.c.remote-auth = ssh\nqueue.c.remote-ssh-key = " + key + "\nqueue.c.remote-known-hosts = " + hosts + "\n");
    RunwayQueues queues = RunwayQueues.load(file);
    assertThat(queues.find("a").orElseThrow().origin()).isEqualTo(dir.resolve("repos/a.git").toString());
    assertThat(queues.find("b").orElseThrow().origin()).isEqualTo("https://git.example/b.git");
    assertThat(queues.find("c").orElseThrow().origin()).isEqualTo("git@example.com:c.git");
    assertThat(queues.find("c").orElseThrow().remotes().get("fork")).isEqualTo(dir.resolve("conf/forks/c.git").toString());
  }

  @Test
  void namesTheBadSetting() {
    assertThatThrownBy(() -> parse("queue.app.remote=/x\nqueue.app.stratgy=REBASE"))
        .hasMessageContaining("unknown setting 'queue.app.stratgy'");
    assertThatThrownBy(() -> parse("queue.app.remote=/x\nqueue.app.strategy=FAST"))
        .hasMessageContaining("queue.app.strategy: 'FAST' is not one of");
    assertThatThrownBy(() -> parse("queue.app.branch=main")).hasMessageContaining("queue 'app' needs a remote");
    assertThatThrownBy(() -> parse("queue.app.remote=/x\nqueue.app.strategy=DEFAULT"))
        .hasMessageContaining("default strategy must be one of");
  }
}
