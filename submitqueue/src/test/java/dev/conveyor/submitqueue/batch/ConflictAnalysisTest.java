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
  void aRequestLandedEarlierButCheckedLaterGoesAheadOfLaterConflictingBatchesAndWhatFollowsThem() {
    List<ActiveBatch> queue = List.of(
        new ActiveBatch("b5", Set.of("a.txt"), List.of(), false, 5),
        new ActiveBatch("b7", Set.of("a.txt", "b.txt"), List.of("b5"), false, 7),
        new ActiveBatch("b8", Set.of("z.txt", "b.txt"), List.of("b5", "b7"), false, 8),
        new ActiveBatch("b9", Set.of("q.txt"), List.of(), false, 9));
    var placed = ConflictAnalysis.place(queue, ConflictAnalyzer.PATHS, Set.of("a.txt"), 6);
    assertThat(placed.follows()).containsExactly("b5");
    assertThat(placed.ahead()).containsExactly("b7", "b8"); // b9 touches nothing in common: no order between them
    // landed before everything it conflicts with: it goes first
    var first = ConflictAnalysis.place(queue, ConflictAnalyzer.PATHS, Set.of("a.txt"), 4);
    assertThat(first.follows()).isEmpty();
    assertThat(first.ahead()).containsExactly("b5", "b7", "b8");
    // landed after them: the usual place, behind
    var last = ConflictAnalysis.place(queue, ConflictAnalyzer.PATHS, Set.of("a.txt"), 10);
    assertThat(last.follows()).containsExactly("b5", "b7");
    assertThat(last.ahead()).isEmpty();
  }

  @Test
  void aMergingBatchIsNeverOvertakenNorIsAnythingItFollows() {
    List<ActiveBatch> queue = List.of(
        new ActiveBatch("b5", Set.of("a.txt"), List.of(), false, 5),
        new ActiveBatch("b7", Set.of("a.txt"), List.of("b5"), true, 7));
    var placed = ConflictAnalysis.place(queue, ConflictAnalyzer.PATHS, Set.of("a.txt"), 4);
    assertThat(placed.ahead()).isEmpty(); // b7 merges behind b5: b5 cannot move behind the new one
    assertThat(placed.follows()).containsExactly("b5", "b7");
    var serial = ConflictAnalysis.place(List.of(new ActiveBatch("b5", Set.of("x"), List.of(), false, 5)),
        ConflictAnalyzer.SERIAL, Set.of("y"), 3);
    assertThat(serial.ahead()).containsExactly("b5");
  }

  @Test
  void aSerialQueueFollowsEveryActiveBatch() {
    assertThat(ConflictAnalysis.dependencies(active, ConflictAnalyzer.SERIAL, Set.of())).containsExactly("b1", "b2",
        "b3", "b4");
  }
}
