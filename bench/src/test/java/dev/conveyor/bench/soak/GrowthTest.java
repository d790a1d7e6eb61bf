package dev.conveyor.bench.soak;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

class GrowthTest {
  @Test
  void aSawtoothHeldByRetentionDoesNotGrow() {
    List<Long> counts = List.of(0L, 900L, 1800L, 1200L, 2100L, 1150L, 2050L, 1180L, 2120L, 1160L, 2090L, 1170L);
    assertThat(Growth.of(counts, 20, 0.05).grows()).isFalse();
  }

  @Test
  void aTableNothingDeletesGrows() {
    List<Long> counts = List.of(0L, 600L, 1200L, 1800L, 2400L, 3000L, 3600L, 4200L, 4800L, 5400L);
    Growth g = Growth.of(counts, 20, 0.05);
    assertThat(g.grows()).isTrue();
    assertThat(g.earlierMax()).isEqualTo(3600L);
    assertThat(g.laterMin()).isEqualTo(4200L);
  }

  @Test
  void constantAndSmallDriftAreWithinTolerance() {
    assertThat(Growth.of(List.of(5L, 5L, 5L, 5L, 5L, 5L), 20, 0.05).grows()).isFalse();
    assertThat(Growth.of(List.of(200L, 205L, 210L, 212L, 214L, 216L, 218L, 220L), 16, 0.05).grows()).isFalse();
  }

  @Test
  void aRunTooShortIsNotJudged() {
    Growth g = Growth.of(List.of(1L, 100L), 20, 0.05);
    assertThat(g.judged()).isFalse();
    assertThat(g.grows()).isFalse();
  }
}
