package dev.conveyor.submitqueue.batch;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.submitqueue.batch.ConflictAnalysis.ActiveBatch;
import dev.conveyor.submitqueue.config.SubmitQueueConfig.ConflictAnalyzer;
import java.util.List;
import java.util.Set;
import org.junit.jupiter.api.Test;

class ConflictAnalysisTest {
  private final List<ActiveBatch> active = List.of(
      new ActiveBatch("b1", Set.of("a.txt"), List.of()),
      new ActiveBatch("b2", Set.of("b.txt"), List.of()),
      new ActiveBatch("b3", Set.of("c.txt", "a2.txt"), List.of("b1")),
      new ActiveBatch("b4", Set.of("d.txt"), List.of("gone")));

  @Test
  void aBatchFollowsThoseTouchingACommonPathAndWhatTheyFollowOldestFirst() {
    assertThat(ConflictAnalysis.dependencies(active, ConflictAnalyzer.PATHS, Set.of("c.txt"))).containsExactly("b1",
        "b3");
    assertThat(ConflictAnalysis.dependencies(active, ConflictAnalyzer.PATHS, Set.of("b.txt", "x"))).containsExactly(
        "b2");
  }

  @Test
  void independentChangesFollowNothingAndEndedDependenciesAreIgnored() {
    assertThat(ConflictAnalysis.dependencies(active, ConflictAnalyzer.PATHS, Set.of("z.txt"))).isEmpty();
    assertThat(ConflictAnalysis.dependencies(active, ConflictAnalyzer.PATHS, Set.of("d.txt"))).containsExactly("b4");
    // a prefix is not the same path
    assertThat(ConflictAnalysis.dependencies(active, ConflictAnalyzer.PATHS, Set.of("a"))).isEmpty();
  }

  @Test
  void aSerialQueueFollowsEveryActiveBatch() {
    assertThat(ConflictAnalysis.dependencies(active, ConflictAnalyzer.SERIAL, Set.of())).containsExactly("b1", "b2",
        "b3", "b4");
  }
}
