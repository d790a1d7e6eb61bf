package dev.conveyor.submitqueue.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** queue.<q>.build-sandbox, -network, -read-only-paths and -env.<KEY>: parsed, validated, secrets never shown. */
class BuildIsolationConfigTest {
  private static SubmitQueues parse(Map<String, String> env, String... keyValues) {
    Properties p = new Properties();
    p.setProperty("queue.app.remote", "/srv/git/app.git");
    p.setProperty("queue.app.build-command", "make test");
    for (int i = 0; i < keyValues.length; i += 2) {
      p.setProperty(keyValues[i], keyValues[i + 1]);
    }
    return SubmitQueues.parse(p, Path.of("/"), env::get);
  }

  @Test
  void defaultsAreBubblewrapWhenPresentNoNetworkAndAnEmptyEnvironment() {
    assertThat(parse(Map.of()).find("app").orElseThrow().isolation()).isEqualTo(BuildIsolation.DEFAULT);
  }

  @Test
  void everyKeyIsRead() {
    BuildIsolation iso = parse(Map.of("NPM_TOKEN", "s3cr3t-value"),
        "queue.app.build-sandbox", "bwrap", "queue.app.build-network", "true",
        "queue.app.build-read-only-paths", "/opt/jdk, /var/cache/gradle",
        "queue.app.build-env.GRADLE_OPTS", "-Xmx2g", "queue.app.build-env.NPM_TOKEN", "${env:NPM_TOKEN}")
        .find("app").orElseThrow().isolation();

    assertThat(iso.sandbox()).isEqualTo(BuildIsolation.Sandbox.BWRAP);
    assertThat(iso.network()).isTrue();
    assertThat(iso.readOnlyPaths()).containsExactly(Path.of("/opt/jdk"), Path.of("/var/cache/gradle"));
    assertThat(iso.env()).containsEntry("GRADLE_OPTS", "-Xmx2g").containsEntry("NPM_TOKEN", "s3cr3t-value");
    assertThat(iso.secretKeys()).containsExactly("NPM_TOKEN");
    assertThat(iso.secretValues()).containsExactly("s3cr3t-value");
    assertThat(iso.toString()).doesNotContain("s3cr3t-value").contains("NPM_TOKEN=***");
    assertThat(parse(Map.of("NPM_TOKEN", "s3cr3t-value"), "queue.app.build-env.NPM_TOKEN", "${env:NPM_TOKEN}")
        .find("app").orElseThrow().toString()).doesNotContain("s3cr3t-value");
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> parse(Map.of(), "queue.app.build-env.TOKEN", "${env:MISSING}"))
        .hasMessageContaining("queue.app.build-env.TOKEN").hasMessageContaining("MISSING is not set");
    assertThatThrownBy(() -> parse(Map.of(), "queue.app.build-env.1BAD", "x"))
        .hasMessageContaining("queue.app.build-env.1BAD").hasMessageContaining("not an environment variable name");
    assertThatThrownBy(() -> parse(Map.of(), "queue.app.build-env.HOME", "/root"))
        .hasMessageContaining("queue.app.build-env.HOME");
    assertThatThrownBy(() -> parse(Map.of(), "queue.app.build-sandbox", "docker"))
        .hasMessageContaining("queue.app.build-sandbox").hasMessageContaining("auto, bwrap or none");
    assertThatThrownBy(() -> parse(Map.of(), "queue.app.build-network", "yes"))
        .hasMessageContaining("queue.app.build-network");
    assertThatThrownBy(() -> parse(Map.of(), "queue.app.build-read-only-paths", "opt/jdk"))
        .hasMessageContaining("queue.app.build-read-only-paths").hasMessageContaining("absolute");
    assertThatThrownBy(() -> parse(Map.of(), "queue.app.build-read-only-paths", "/opt/../etc"))
        .hasMessageContaining("queue.app.build-read-only-paths");
    assertThatThrownBy(() -> parse(Map.of(), "queue.app.build-envy", "x"))
        .hasMessageContaining("unknown setting 'queue.app.build-envy'");
    assertThatThrownBy(() -> parse(Map.of(), "queue.app.build-env", "x"))
        .hasMessageContaining("unknown setting 'queue.app.build-env'");
  }

  @Test
  void declaredPathAndLangOverrideTheDefaultsButHomeIsAlwaysTheBuildsOwn() {
    BuildIsolation iso = new BuildIsolation(BuildIsolation.Sandbox.NONE, false, List.of(),
        Map.of("PATH", "/opt/bin:/usr/bin", "X", "1"), java.util.Set.of());
    assertThat(dev.conveyor.submitqueue.build.BuildRunner.environment(iso, "/tmp/home"))
        .containsExactlyInAnyOrderEntriesOf(Map.of("PATH", "/opt/bin:/usr/bin", "LANG", "C.UTF-8", "HOME", "/tmp/home",
            "X", "1"));
  }
}
