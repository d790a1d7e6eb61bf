package dev.conveyor.runway.queue;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** queue.<q>.remote-auth and its keys: read, checked at start naming the key, secrets never shown. */
class RemoteAuthConfigTest {
  @TempDir Path dir;

  private static RunwayQueues parse(Map<String, String> env, String text) throws Exception {
    Properties p = new Properties();
    p.load(new StringReader(text));
    return RunwayQueues.parse(p, java.util.Set.of(), env::get);
  }

  @Test
  void eachKindReadsItsKeys() throws Exception {
    Path token = Files.writeString(dir.resolve("token"), "t0ken-value\n");
    Path key = Files.writeString(dir.resolve("key"), "k");
    Path hosts = Files.writeString(dir.resolve("known_hosts"), "h");
    RunwayQueues q = parse(Map.of("GIT_PASSWORD", "pa55-value"), "queue.a.remote = https://git.example/a.git\n"
        + "queue.a.remote-auth = bearer\nqueue.a.remote-token-file = " + token + "\n"
        + "queue.b.remote = https://git.example/b.git\nqueue.b.remote-auth = basic\n"
        + "queue.b.remote-username = x-access-token\nqueue.b.remote-password-env = GIT_PASSWORD\n"
        + "queue.c.remote = ssh://git@git.example/c.git\nqueue.c.remote-auth = ssh\n"
        + "queue.c.remote-ssh-key = " + key + "\nqueue.c.remote-known-hosts = " + hosts + "\n"
        + "queue.d.remote = /srv/git/d.git\n");
    RemoteAuth.Bearer a = (RemoteAuth.Bearer) q.find("a").orElseThrow().auth();
    assertThat(a.token().read()).isEqualTo("t0ken-value");
    RemoteAuth.Basic b = (RemoteAuth.Basic) q.find("b").orElseThrow().auth();
    assertThat(b.username()).isEqualTo("x-access-token");
    assertThat(b.password().read()).isEqualTo("pa55-value");
    assertThat(q.find("c").orElseThrow().auth()).isEqualTo(new RemoteAuth.Ssh(key, hosts));
    assertThat(q.find("d").orElseThrow().auth()).isEqualTo(RemoteAuth.NONE);
    assertThat(q.find("a").orElseThrow().toString() + q.find("b").orElseThrow())
        .doesNotContain("t0ken-value").doesNotContain("pa55-value").contains("environment GIT_PASSWORD");
    assertThat(q.find("b").orElseThrow().authFor("fork")).as("other remotes are not signed in to").isEqualTo(
        RemoteAuth.NONE);
  }

  @Test
  void mistakesAreRefusedAtStartNamingTheKey() {
    assertThatThrownBy(() -> parse(Map.of(), "queue.a.remote = https://h/a.git\nqueue.a.remote-auth = token\n"))
        .hasMessageContaining("queue.a.remote-auth: 'token' is not none, basic, bearer or ssh");
    assertThatThrownBy(() -> parse(Map.of(), "queue.a.remote = https://h/a.git\nqueue.a.remote-auth = bearer\n"))
        .hasMessageContaining("queue.a.remote-token-file or queue.a.remote-token-env: set exactly one");
    assertThatThrownBy(() -> parse(Map.of(), "queue.a.remote = https://h/a.git\nqueue.a.remote-auth = bearer\n"
        + "queue.a.remote-token-env = NOPE\n")).hasMessageContaining("NOPE is not set in the server's environment");
    assertThatThrownBy(() -> parse(Map.of(), "queue.a.remote = https://h/a.git\nqueue.a.remote-auth = bearer\n"
        + "queue.a.remote-token-file = " + dir.resolve("missing") + "\n"))
        .hasMessageContaining("queue.a.remote-token-file: ").hasMessageContaining("does not exist");
    assertThatThrownBy(() -> parse(Map.of("T", "x"), "queue.a.remote = /srv/a.git\nqueue.a.remote-auth = bearer\n"
        + "queue.a.remote-token-env = T\n")).hasMessageContaining("bearer needs an https remote");
    assertThatThrownBy(() -> parse(Map.of("T", "x"), "queue.a.remote = http://git.example/a.git\n"
        + "queue.a.remote-auth = bearer\nqueue.a.remote-token-env = T\n"))
        .hasMessageContaining("needs an https remote (plain http only on loopback)");
    assertThatThrownBy(() -> parse(Map.of(), "queue.a.remote = git@h:a.git\n"))
        .hasMessageContaining("queue.a.remote is an ssh remote: set remote-auth = ssh");
    assertThatThrownBy(() -> parse(Map.of(), "queue.a.remote = /srv/a.git\nqueue.a.remotes.fork = ssh://git@h/f.git\n"))
        .hasMessageContaining("queue.a.remotes.fork is an ssh remote: only the origin may be reached over ssh");
    assertThatThrownBy(() -> parse(Map.of(), "queue.a.remote = https://h/a.git\nqueue.a.remote-ssh-key = /k\n"))
        .hasMessageContaining("queue.a.remote-ssh-key does not apply with remote-auth = none");
    assertThatThrownBy(() -> parse(Map.of(), "queue.a.remote = ssh://git@h/a.git\nqueue.a.remote-auth = ssh\n"
        + "queue.a.remote-ssh-key = " + dir + "\n"))
        .hasMessageContaining("queue.a.remote-known-hosts is required");
  }

  @Test
  void aSecretFileThatIsEmptyOrHugeIsAnErrorNamingOnlyTheFile() throws Exception {
    Path empty = Files.writeString(dir.resolve("empty"), "\n");
    assertThatThrownBy(() -> RemoteAuth.Secret.ofFile(empty).read()).hasMessage("secret file " + empty + " is empty");
    Path huge = Files.writeString(dir.resolve("huge"), "x".repeat(RemoteAuth.MAX_SECRET + 1));
    assertThatThrownBy(() -> RemoteAuth.Secret.ofFile(huge).read()).hasMessageContaining("larger than");
  }
}
