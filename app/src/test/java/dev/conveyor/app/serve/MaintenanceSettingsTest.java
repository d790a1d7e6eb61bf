package dev.conveyor.app.serve;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.app.cli.ErrorReporter.UserError;
import dev.conveyor.app.serve.ServeSettings.Key;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The retention.*, maintenance-lease and build-log-* keys: defaults, parsing, and clear refusals. */
class MaintenanceSettingsTest {
  @TempDir Path dir;

  private ServeSettings load(String properties) throws Exception {
    Files.writeString(dir.resolve("conveyor.properties"), properties);
    return ServeSettings.load(null, dir, Map.of());
  }

  @Test
  void defaultsAreDocumentedAndPrinted() throws Exception {
    MaintenanceSettings m = ServeSettings.load(null, dir, Map.of()).maintenance();
    assertThat(m).isEqualTo(MaintenanceSettings.defaults());
    assertThat(m.ages().jobs()).contains(Duration.ofDays(7));
    assertThat(m.ages().effectClaims()).contains(Duration.ofDays(30));
    assertThat(m.lease()).isEqualTo(Duration.ofSeconds(30));
    assertThat(m.buildLog().head()).isEqualTo(256 << 10);
    assertThat(ServeSettings.template()).contains("#retention.jobs = 7d").contains("#build-log-tail = 262144")
        .contains("#maintenance-lease = 30s");
    assertThat(ServeSettings.load(null, dir, Map.of()).effective()).contains("retention.dead-letters = 30d    # default");
  }

  @Test
  void agesParseAndForeverKeepsRows() throws Exception {
    MaintenanceSettings m = load("retention.jobs = 36h\nretention.paths = forever\nretention.interval = 90s\n"
        + "retention.batch-size = 100\nbuild-log-head = 0\n").maintenance();
    assertThat(m.ages().jobs()).contains(Duration.ofHours(36));
    assertThat(m.ages().paths()).isEmpty();
    assertThat(MaintenanceSettings.describe(m.ages().paths())).isEqualTo("forever");
    assertThat(MaintenanceSettings.describe(Optional.of(Duration.ofHours(36)))).isEqualTo("36h");
    assertThat(m.interval()).isEqualTo(Duration.ofSeconds(90));
    assertThat(m.options().batchSize()).isEqualTo(100);
    assertThat(m.buildLog().head()).isZero();
  }

  @Test
  void badValuesAreRefusedNamingTheKey() {
    assertThatThrownBy(() -> load("retention.requests = -3d\n")).isInstanceOf(UserError.class)
        .hasMessageContaining("retention.requests = '-3d' is not valid");
    assertThatThrownBy(() -> load("retention.batch-size = 100000\n")).isInstanceOf(UserError.class)
        .hasMessageContaining("retention.batch-size");
    assertThatThrownBy(() -> load("maintenance-lease = forever\n")).isInstanceOf(UserError.class)
        .hasMessageContaining("maintenance-lease");
    assertThatThrownBy(() -> load("build-log-head = 0\nbuild-log-tail = 0\n")).isInstanceOf(UserError.class)
        .hasMessageContaining("nothing of a build's output would be kept");
    assertThatThrownBy(() -> load("retention.effect-claims = 7d\nretention.dead-letters = forever\n"))
        .isInstanceOf(UserError.class).hasMessageContaining("shorter than retention.dead-letters = forever");
    assertThat(Key.RETENTION_JOBS.key()).isEqualTo("retention.jobs");
  }
}
