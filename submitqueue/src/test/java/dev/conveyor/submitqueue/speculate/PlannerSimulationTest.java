package dev.conveyor.submitqueue.speculate;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import org.junit.jupiter.api.Test;

/**
 * The planner over a whole queue, in memory ({@link QueueSimulation}): bisection trees, budgets, refuted
 * chains and priorities, round by round, with every merge checked against the target.
 */
class PlannerSimulationTest {

  private static List<String> independent(QueueSimulation q, int count, Set<Integer> broken) {
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < count; i++) {
      ids.add(broken.contains(i) ? q.land("r" + i, "f" + i + ".txt", "BROKEN-" + i) : q.land("r" + i, "f" + i + ".txt"));
    }
    return ids;
  }

  @Test
  void oneCulpritInABatchOfEightIsFoundByHalvingAndEveryoneElseLands() {
    QueueSimulation q = new QueueSimulation(4, 8, 0.9);
    List<String> ids = independent(q, 8, Set.of(2));
    q.run(20);
    assertThat(q.splits()).containsExactly("b0", "b0.1", "b0.1.2");
    assertThat(q.rejected()).containsExactly("r2");
    assertThat(q.batch("b0.1.2.1").members).containsExactly("r2");
    assertThat(new TreeSet<>(q.landed())).isEqualTo(without(ids, "r2"));
    assertThat(q.target()).containsKeys("f0.txt", "f7.txt").doesNotContainKey("f2.txt");
  }

  @Test
  void twoCulpritsInDifferentHalvesAreBothFound() {
    QueueSimulation q = new QueueSimulation(4, 8, 0.9);
    List<String> ids = independent(q, 8, Set.of(2, 5));
    q.run(20);
    assertThat(q.splits()).containsExactlyInAnyOrder("b0", "b0.1", "b0.2", "b0.1.2", "b0.2.1");
    assertThat(q.rejected()).containsExactly("r2", "r5");
    assertThat(new TreeSet<>(q.landed())).isEqualTo(without(ids, "r2", "r5"));
  }

  @Test
  void twentyIndependentChangesInBatchesOfFiveTakeFourBuilds() {
    QueueSimulation q = new QueueSimulation(4, 5, 0.9);
    independent(q, 20, Set.of());
    q.run(10);
    assertThat(q.landed()).hasSize(20);
    assertThat(q.builds()).isEqualTo(4);
    assertThat(q.rounds()).isEqualTo(2); // one build time, then the merges
  }

  @Test
  void withTwoBrokenAmongTwentyExactlyThoseTwoEnd() {
    QueueSimulation q = new QueueSimulation(4, 5, 0.9);
    List<String> ids = independent(q, 20, Set.of(3, 16));
    q.run(30);
    assertThat(q.rejected()).containsExactly("r16", "r3");
    assertThat(new TreeSet<>(q.landed())).isEqualTo(without(ids, "r3", "r16"));
  }

  @Test
  void aBudgetOfOneBuildsOneAtATimeOldestFirst() {
    QueueSimulation q = new QueueSimulation(1, 1, 0.9);
    independent(q, 3, Set.of());
    q.run(10);
    assertThat(q.landed()).containsExactly("r0", "r1", "r2");
    assertThat(q.builds()).isEqualTo(3);
    assertThat(q.rounds()).isEqualTo(4); // three build times, then the last merge
  }

  @Test
  void aRefutedChainIsRebuiltOnTheRealOutcome() {
    // r1 touches what r0 touches, so it follows r0 and is built assuming r0 lands; r0 is broken
    QueueSimulation q = new QueueSimulation(1, 1, 0.9);
    q.land("r0", "shared.txt", "BROKEN");
    q.land("r1", "other.txt", "BROKEN");
    q.run(10);
    assertThat(q.rejected()).containsExactly("r0", "r1");
    assertThat(q.batch("b1").dependsOn).containsExactly("b0");
    QueueSimulation ok = new QueueSimulation(1, 1, 0.9);
    ok.land("r0", "shared.txt", "BROKEN");
    ok.land("r1", "shared.txt");
    ok.run(10);
    assertThat(ok.rejected()).containsExactly("r0");
    assertThat(ok.landed()).containsExactly("r1");
    // with a budget of one the older batch goes first; once it failed, r1 is built on that outcome only
    assertThat(ok.builds()).isEqualTo(2);
    assertThat(ok.batch("b1").paths).singleElement().satisfies(p -> {
      assertThat(p.assumptions()).containsEntry("b0", false);
      assertThat(p.state()).isEqualTo(PathRecord.PathState.PASSED);
    });
  }

  @Test
  void twoChangesToTheSamePathConflictAndTheSecondEnds() {
    QueueSimulation q = new QueueSimulation(4, 1, 0.9);
    q.land("r0", "same.txt");
    q.land("r1", "same.txt");
    q.run(10);
    assertThat(q.landed()).containsExactly("r0");
    assertThat(q.rejected()).containsExactly("r1");
    assertThat(q.target()).containsEntry("same.txt", "r0");
  }

  @Test
  void anUrgentRequestSubmittedLastIsBuiltAndLandsFirst() {
    QueueSimulation q = new QueueSimulation(1, 1, 0.9);
    independent(q, 3, Set.of());
    q.land("hotfix", 10, "fix.txt");
    q.run(10);
    assertThat(q.landed()).containsExactly("hotfix", "r0", "r1", "r2");
  }

  @Test
  void anUrgentRequestGoesAloneAndLeavesTheOpenBatchOpen() {
    QueueSimulation q = new QueueSimulation(4, 8, 0.9);
    independent(q, 3, Set.of());
    q.land("hotfix", 10, "fix.txt");
    q.land("r3", "f3.txt");
    q.run(10);
    assertThat(q.batch("b0").members).containsExactly("r0", "r1", "r2", "r3");
    assertThat(q.batch("b1").members).containsExactly("hotfix");
    assertThat(q.landed()).hasSize(5);
  }

  /**
   * The benchmark's workload (100 requests, 10 broken, 10 pairs touching a common file, the second of each
   * pair a conflict) at budget 4: nothing broken lands, every change that is neither broken nor the second
   * of a pair lands, and batches of 4 and 8 run fewer builds than batches of one (figures printed; the
   * timings are the bench's).
   */
  @Test
  void theBenchmarkWorkloadLandsEveryInnocentChangeInFewerBuildsWithBatches() {
    Map<Integer, Integer> builds = new TreeMap<>();
    for (int batchSize : new int[] {1, 4, 8}) {
      QueueSimulation q = new QueueSimulation(4, batchSize, 0.9);
      Random random = new Random(42);
      Set<Integer> broken = new TreeSet<>();
      while (broken.size() < 10) {
        broken.add(random.nextInt(100));
      }
      Set<String> innocent = new TreeSet<>();
      for (int i = 0; i < 100; i++) {
        List<String> paths = new ArrayList<>(List.of("f" + i + ".txt"));
        if (i % 10 <= 1) {
          paths.add("pair-" + i / 10 + ".txt"); // r0 & r1, r10 & r11, ...: the second conflicts with the first
        }
        if (broken.contains(i)) {
          paths.add("BROKEN-" + i);
        }
        q.land("r" + i, paths.toArray(String[]::new));
        if (!broken.contains(i) && i % 10 != 1) {
          innocent.add("r" + i);
        }
      }
      q.run(200);
      assertThat(q.landed()).containsAll(innocent);
      assertThat(q.landed()).noneMatch(r -> broken.contains(Integer.parseInt(r.substring(1))));
      builds.put(batchSize, q.builds());
      System.out.printf("simulated batch-size %d, budget 4: %d landed, %d builds (%.2f per landed), %d rounds,"
          + " %d ejected; %s%n", batchSize, q.landed().size(), q.builds(), (double) q.builds() / q.landed().size(),
          q.rounds(), q.ejections(), q.buildOutcomes());
    }
    assertThat(builds.get(4)).isLessThan(builds.get(1));
    assertThat(builds.get(8)).isLessThan(builds.get(1));
  }

  private static Set<String> without(List<String> ids, String... gone) {
    Set<String> out = new TreeSet<>(ids);
    List.of(gone).forEach(out::remove);
    return out;
  }
}
