package dev.conveyor.app.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.app.cli.ErrorReporter.UserError;
import dev.conveyor.app.serve.ServeSettings.Key;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.EnumMap;
import java.util.Map;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

class ServeSettingsTest {
  @TempDir Path dir;

  @Test
  void everyKeyHasADefaultAndTheTemplateDocumentsIt() throws Exception {
    ServeSettings s = ServeSettings.load(null, dir, Map.of());
    assertThat(s.source()).isNull();
    assertThat(s.bind()).isEqualTo("127.0.0.1");
    assertThat(s.grpcPort()).isEqualTo(7420);
    assertThat(s.httpPort()).isEqualTo(7421);
    assertThat(s.auth()).isEqualTo(ControlPlane.AuthMode.LOCAL);
    assertThat(s.captureWorker()).isTrue();
    assertThat(s.shutdownGrace()).isEqualTo(Duration.ofSeconds(20));
    assertThat(s.queues()).isNull();
    if (System.getenv("CONVEYOR_LEDGER") == null) {
      assertThat(s.ledger()).isEqualTo("sqlite:" + dir.resolve("conveyor.db"));
    }
    String template = ServeSettings.template();
    for (Key k : Key.values()) {
      assertThat(template).as(k.key()).contains("#" + k.key() + " = ");
    }
    assertThat(template).contains("queue.app.build-command");
  }

  @Test
  void theFileOverridesDefaultsAndFlagsOverrideTheFile() throws Exception {
    Files.createDirectories(dir.resolve("repos"));
    Files.writeString(dir.resolve(ServeSettings.FILE_NAME), "bind = 0.0.0.0\nhttp-port = -1\nauth = none\n"
        + "shutdown-grace = 500ms\ncapture-worker = false\n"
        + "queue.app.remote = repos/app.git\nqueue.app.build-command = make test\n");
    Map<Key, String> flags = new EnumMap<>(Key.class);
    flags.put(Key.BIND, "127.0.0.1");
    ServeSettings s = ServeSettings.load(null, dir, flags);
    assertThat(s.source()).isEqualTo(dir.resolve(ServeSettings.FILE_NAME));
    assertThat(s.bind()).isEqualTo("127.0.0.1");
    assertThat(s.httpPort()).isEqualTo(-1);
    assertThat(s.auth()).isEqualTo(ControlPlane.AuthMode.NONE);
    assertThat(s.captureWorker()).isFalse();
    assertThat(s.shutdownGrace()).isEqualTo(Duration.ofMillis(500));
    assertThat(s.queues().names()).containsExactly("app");
    // a relative repository path means relative to the file that names it
    assertThat(s.queues().find("app").orElseThrow().git().origin())
        .isEqualTo(dir.resolve("repos/app.git").toAbsolutePath().normalize().toString());
    assertThat(s.effective()).contains("bind = 127.0.0.1\n", "grpc-port = 7420    # default", "queues: [app]");
  }

  @Test
  void buildIsolationKeysAreKnownPrintedWithoutSecretValuesAndCheckedAtLoad() throws Exception {
    Files.createDirectories(dir.resolve("repos"));
    Path file = dir.resolve(ServeSettings.FILE_NAME);
    Files.writeString(file, "queue.app.remote = repos/app.git\nqueue.app.build-command = make test\n"
        + "queue.app.build-sandbox = none\nqueue.app.build-network = true\n"
        + "queue.app.build-read-only-paths = /opt/jdk\nqueue.app.build-env.GRADLE_OPTS = -Xmx2g\n"
        + "queue.app.build-env.SECRET_PATH = ${env:PATH}\n");
    ServeSettings s = ServeSettings.load(null, dir, Map.of());
    var iso = s.queues().find("app").orElseThrow().isolation();
    assertThat(iso.env()).containsEntry("SECRET_PATH", System.getenv("PATH"));
    assertThat(s.effective()).contains("# queue app builds: sandbox none, network on, read-only paths [/opt/jdk],"
        + " environment [GRADLE_OPTS, SECRET_PATH (secret)]").doesNotContain(System.getenv("PATH"));
    assertThat(ServeSettings.template()).contains("#queue.app.build-sandbox = auto", "#queue.app.build-network",
        "#queue.app.build-read-only-paths", "#queue.app.build-env.");

    Files.writeString(file, "queue.app.remote = repos/app.git\nqueue.app.build-command = make test\n"
        + "queue.app.build-env.TOKEN = ${env:CONVEYOR_TEST_SURELY_UNSET}\n");
    assertThatThrownBy(() -> ServeSettings.load(null, dir, Map.of())).isInstanceOf(UserError.class)
        .hasMessageContaining("queue.app.build-env.TOKEN").hasMessageContaining("CONVEYOR_TEST_SURELY_UNSET is not set");
    Files.writeString(file, "queue.app.remote = repos/app.git\nqueue.app.build-command = make test\n"
        + "queue.app.build-sandboxx = none\n");
    assertThatThrownBy(() -> ServeSettings.load(null, dir, Map.of())).isInstanceOf(UserError.class)
        .hasMessageContaining("unknown setting 'queue.app.build-sandboxx'");
  }

  @Test
  void mistakesAreOneLineErrorsNamingTheKey() throws Exception {
    Path file = dir.resolve("c.properties");
    Files.writeString(file, "grpc-prot = 1\n");
    assertThatThrownBy(() -> ServeSettings.load(file, dir, Map.of())).isInstanceOf(UserError.class)
        .hasMessageContaining("unknown key 'grpc-prot'")
        .satisfies(e -> assertThat(((UserError) e).hint()).contains("grpc-port"));
    Files.writeString(file, "http-port = lots\n");
    assertThatThrownBy(() -> ServeSettings.load(file, dir, Map.of())).isInstanceOf(UserError.class)
        .hasMessageContaining("http-port = 'lots' is not valid");
    Files.writeString(file, "shutdown-grace = soon\n");
    assertThatThrownBy(() -> ServeSettings.load(file, dir, Map.of())).hasMessageContaining("shutdown-grace");
    assertThatThrownBy(() -> ServeSettings.load(dir.resolve("missing.properties"), dir, Map.of()))
        .hasMessageContaining("no configuration file");
    Files.writeString(file, "queue.app.strategy = SIDEWAYS\nqueue.app.remote = /x\n");
    assertThatThrownBy(() -> ServeSettings.load(file, dir, Map.of())).isInstanceOf(UserError.class)
        .hasMessageContaining("SIDEWAYS");
  }
}
