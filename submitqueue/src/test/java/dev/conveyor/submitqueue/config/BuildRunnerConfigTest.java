package dev.conveyor.submitqueue.config;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.file.Path;
import java.util.Properties;
import org.junit.jupiter.api.Test;

/** queue.<q>.build-runner and required-checks: parsed, validated, refused naming the key. */
class BuildRunnerConfigTest {
  private static SubmitQueues parse(String... keyValues) {
    Properties p = new Properties();
    p.setProperty("queue.app.remote", "/srv/git/app.git");
    for (int i = 0; i < keyValues.length; i += 2) {
      p.setProperty(keyValues[i], keyValues[i + 1]);
    }
    return SubmitQueues.parse(p, Path.of("/"), k -> null);
  }

  @Test
  void localIsTheDefaultAndNeedsABuildCommand() {
    assertThat(parse("queue.app.build-command", "make").find("app").orElseThrow().runner())
        .isEqualTo(SubmitQueueConfig.Runner.LOCAL);
    assertThat(parse().find("app")).as("without a build command or runner, a queue is Runway's alone").isEmpty();
    assertThatThrownBy(() -> parse("queue.app.build-runner", "local"))
        .hasMessageContaining("needs a build command").hasMessageContaining("build-runner = external");
  }

  @Test
  void anExternalQueueNeedsNoCommandAndRequiresTheNamedChecks() {
    SubmitQueueConfig q = parse("queue.app.build-runner", "external", "queue.app.required-checks", " unit, lint ")
        .find("app").orElseThrow();
    assertThat(q.runner().external()).isTrue();
    assertThat(q.runner().requiredChecks()).containsExactly("unit", "lint");
    assertThat(parse("queue.app.build-runner", "External").find("app").orElseThrow().runner().requiredChecks())
        .containsExactly("ci");
  }

  @Test
  void verifyIsTipByDefaultOrEachCommit() {
    assertThat(parse("queue.app.build-command", "make").find("app").orElseThrow().verify())
        .isEqualTo(SubmitQueueConfig.Verify.TIP);
    assertThat(parse("queue.app.build-command", "make", "queue.app.verify", "each-commit").find("app").orElseThrow()
        .verify()).isEqualTo(SubmitQueueConfig.Verify.EACH_COMMIT);
    assertThatThrownBy(() -> parse("queue.app.build-command", "make", "queue.app.verify", "all"))
        .hasMessageContaining("queue.app.verify: 'all' is not tip or each-commit");
  }

  @Test
  void theTargetsAnalyzerNeedsItsCommand() {
    SubmitQueues q = parse("queue.app.build-command", "make", "queue.app.conflict-analyzer", "targets",
        "queue.app.targets-command", "./affected.sh");
    assertThat(q.find("app").orElseThrow().analyzer()).isEqualTo(SubmitQueueConfig.ConflictAnalyzer.TARGETS);
    assertThat(q.targets("app").orElseThrow()).isEqualTo(new TargetsCommand("./affected.sh", java.time.Duration.ofMinutes(5)));
    assertThatThrownBy(() -> parse("queue.app.build-command", "make", "queue.app.conflict-analyzer", "targets"))
        .hasMessageContaining("conflict-analyzer = targets needs queue.app.targets-command");
    assertThatThrownBy(() -> parse("queue.app.build-command", "make", "queue.app.targets-command", "x"))
        .hasMessageContaining("applies only with conflict-analyzer = targets");
  }

  @Test
  void aWebhookNeedsAnHttpUrlAndASecret() {
    assertThat(parse("queue.app.build-command", "make").webhook("app")).isEmpty();
    assertThatThrownBy(() -> parse("queue.app.build-command", "make", "queue.app.webhook-url", "https://h/x"))
        .hasMessageContaining("webhook-secret-file or queue.app.webhook-secret-env: set exactly one");
    assertThatThrownBy(() -> parse("queue.app.build-command", "make", "queue.app.webhook-url", "file:///etc/passwd",
        "queue.app.webhook-secret-env", "S")).hasMessageContaining("queue.app.webhook-url: an http or https URL");
    assertThatThrownBy(() -> parse("queue.app.build-command", "make", "queue.app.webhook-url", "https://h/x",
        "queue.app.webhook-secret-env", "UNSET")).hasMessageContaining("UNSET is not set");
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> parse("queue.app.build-runner", "jenkins"))
        .hasMessageContaining("queue.app.build-runner: 'jenkins' is not local or external");
    assertThatThrownBy(() -> parse("queue.app.build-command", "make", "queue.app.required-checks", "unit"))
        .hasMessageContaining("queue.app.required-checks applies only with build-runner = external");
    assertThatThrownBy(() -> parse("queue.app.build-runner", "external", "queue.app.build-command", "make"))
        .hasMessageContaining("queue.app.build-command applies only with build-runner = local");
    assertThatThrownBy(() -> parse("queue.app.build-runner", "external", "queue.app.build-env.X", "1"))
        .hasMessageContaining("queue.app.build-env.X applies only with build-runner = local");
    assertThatThrownBy(() -> parse("queue.app.build-runner", "external", "queue.app.required-checks", "unit test"))
        .hasMessageContaining("queue.app.required-checks: 'unit test' is not a check name");
    assertThatThrownBy(() -> parse("queue.app.build-runner", "external", "queue.app.required-checks", "a,a"))
        .hasMessageContaining("name one check twice");
    assertThatThrownBy(() -> parse("queue.app.build-runner", "external", "queue.app.required-checks", " , "))
        .hasMessageContaining("at least one required check");
    String seventeen = String.join(",", java.util.stream.IntStream.range(0, 17).mapToObj(i -> "c" + i).toList());
    assertThatThrownBy(() -> parse("queue.app.build-runner", "external", "queue.app.required-checks", seventeen))
        .hasMessageContaining("at most 16 required checks");
  }
}
