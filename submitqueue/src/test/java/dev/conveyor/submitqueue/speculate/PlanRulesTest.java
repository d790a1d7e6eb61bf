package dev.conveyor.submitqueue.speculate;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.submitqueue.speculate.PathRecord.PathState;
import dev.conveyor.submitqueue.speculate.PlanRules.BatchView;
import dev.conveyor.submitqueue.speculate.PlanRules.Candidate;
import dev.conveyor.submitqueue.speculate.PlanRules.Decision;
import dev.conveyor.submitqueue.speculate.PlanRules.Dependency;
import dev.conveyor.submitqueue.speculate.PlanRules.DependencyState;
import dev.conveyor.submitqueue.speculate.PlanRules.Verdict;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.junit.jupiter.api.Test;

/** The planner's rules on values: which builds stop, what a batch becomes, which candidates the budget takes. */
class PlanRulesTest {
  private static final double PRIOR = 0.9;

  private static PathRecord path(String batch, PathState state, Map<String, Boolean> assumptions) {
    return new PathRecord(PathRecord.idOf(batch, assumptions), batch, new TreeMap<>(assumptions), state, "job",
        state == PathState.FAILED ? "tests failed" : null);
  }

  private static BatchView view(String id, List<String> members, List<Dependency> deps, PathRecord... paths) {
    return new BatchView(id, members, 0, 1, deps, List.of(paths));
  }

  private static Dependency open(String id, int members) {
    return new Dependency(id, DependencyState.OPEN, members);
  }

  @Test
  void aBatchWithNoDependenciesIsOneCertainCandidateAndIsNotBuiltTwice() {
    Decision first = PlanRules.decide(view("b1", List.of("r1"), List.of()), PRIOR);
    assertThat(first.verdict()).isInstanceOfSatisfying(Verdict.Speculate.class, s -> {
      assertThat(s.unbuilt()).singleElement().satisfies(c -> {
        assertThat(c.assumptions()).isEmpty();
        assertThat(c.probability()).isEqualTo(1.0);
      });
    });
    Decision building = PlanRules.decide(view("b1", List.of("r1"), List.of(), path("b1", PathState.BUILDING, Map.of())),
        PRIOR);
    assertThat(building.verdict()).isEqualTo(new Verdict.Speculate(List.of()));
    assertThat(building.cancels()).isEmpty();
  }

  @Test
  void everyOutcomeOfOpenDependenciesIsACandidateWeightedByTheirSize() {
    Decision d = PlanRules.decide(view("b3", List.of("r3"), List.of(open("b1", 1), open("b2", 4))), PRIOR);
    List<Candidate> unbuilt = ((Verdict.Speculate) d.verdict()).unbuilt();
    assertThat(unbuilt).hasSize(4);
    Candidate bothLand = unbuilt.stream().filter(c -> c.assumptions().equals(Map.of("b1", true, "b2", true)))
        .findFirst().orElseThrow();
    assertThat(bothLand.probability()).isCloseTo(0.9 * Math.pow(0.9, 4), org.assertj.core.data.Offset.offset(1e-9));
    assertThat(unbuilt.stream().mapToDouble(Candidate::probability).sum()).isCloseTo(1.0,
        org.assertj.core.data.Offset.offset(1e-9));
  }

  @Test
  void aRefutedChainLosesItsBuildsAndGoesOnTheRealOutcome() {
    // b3 follows b1 (failed) and b2 (still open): every build assuming b1 lands is refuted
    PathRecord assumedB1 = path("b3", PathState.BUILDING, Map.of("b1", true, "b2", true));
    PathRecord assumedB1Too = path("b3", PathState.BUILDING, Map.of("b1", true, "b2", false));
    PathRecord onReal = path("b3", PathState.BUILDING, Map.of("b1", false, "b2", true));
    Decision d = PlanRules.decide(view("b3", List.of("r3"), List.of(new Dependency("b1", DependencyState.NOT_LANDED, 1),
        open("b2", 1)), assumedB1, assumedB1Too, onReal), PRIOR);
    assertThat(d.cancels()).extracting(c -> c.path().pathId()).containsExactlyInAnyOrder(assumedB1.pathId(),
        assumedB1Too.pathId());
    assertThat(d.cancels()).allSatisfy(c -> assertThat(c.why()).startsWith("refuted").contains("b1 lands"));
    List<Candidate> unbuilt = ((Verdict.Speculate) d.verdict()).unbuilt();
    assertThat(unbuilt).singleElement().satisfies(c -> {
      assertThat(c.assumptions()).isEqualTo(Map.of("b1", false, "b2", false));
      assertThat(c.probability()).isCloseTo(0.1, org.assertj.core.data.Offset.offset(1e-9));
    });
    // once b2 ends too, a passed build on the real outcomes merges; a build that assumed otherwise does not
    PathRecord passedWrong = path("b3", PathState.PASSED, Map.of("b1", false, "b2", false));
    PathRecord passedReal = path("b3", PathState.PASSED, Map.of("b1", false, "b2", true));
    Decision end = PlanRules.decide(view("b3", List.of("r3"), List.of(new Dependency("b1", DependencyState.NOT_LANDED,
        1), new Dependency("b2", DependencyState.LANDED, 1)), passedWrong, passedReal), PRIOR);
    assertThat(end.verdict()).isEqualTo(new Verdict.Merge(passedReal));
  }

  @Test
  void aPassedSpeculativeBuildDoesNotMergeBeforeItsDependencyEnds() {
    PathRecord passed = path("b2", PathState.PASSED, Map.of("b1", true));
    Decision d = PlanRules.decide(view("b2", List.of("r2"), List.of(open("b1", 1)), passed), PRIOR);
    assertThat(d.verdict()).isInstanceOfSatisfying(Verdict.Speculate.class, s ->
        assertThat(s.unbuilt()).extracting(Candidate::assumptions).containsExactly(new TreeMap<>(Map.of("b1", false))));
  }

  @Test
  void aFailedBatchOfSeveralIsBisectedAndABatchOfOneFails() {
    PathRecord failed = path("b1", PathState.FAILED, Map.of());
    PathRecord stale = path("b1", PathState.BUILDING, Map.of("gone", true));
    Decision several = PlanRules.decide(view("b1", List.of("r1", "r2", "r3", "r4", "r5"), List.of(), failed, stale),
        PRIOR);
    assertThat(several.verdict()).isEqualTo(new Verdict.Bisect(failed, List.of(List.of("r1", "r2"),
        List.of("r3", "r4", "r5"))));
    assertThat(several.cancels()).singleElement().satisfies(c -> {
      assertThat(c.path()).isEqualTo(stale);
      assertThat(c.why()).startsWith("its dependencies changed");
    });
    Decision one = PlanRules.decide(view("b1", List.of("r1"), List.of(), failed), PRIOR);
    assertThat(one.verdict()).isEqualTo(new Verdict.Fail(failed));
  }

  @Test
  void aMemberWhoseChangeDoesNotApplyIsEjectedNotBisected() {
    PathRecord conflict = path("b1", PathState.FAILED, Map.of()).ended(PathState.FAILED, "conflict: r2 does not apply",
        "r2");
    Decision d = PlanRules.decide(view("b1", List.of("r1", "r2", "r3"), List.of(), conflict), PRIOR);
    assertThat(d.verdict()).isEqualTo(new Verdict.Eject(conflict, "r2"));
    // a step that is not a member (a dependency's, on a speculative path) names nobody here to eject
    PathRecord other = path("b1", PathState.FAILED, Map.of()).ended(PathState.FAILED, "conflict", "r9");
    assertThat(PlanRules.decide(view("b1", List.of("r1", "r2"), List.of(), other), PRIOR).verdict())
        .isInstanceOf(Verdict.Bisect.class);
    // alone, the conflicting request simply fails
    assertThat(PlanRules.decide(view("b1", List.of("r2"), List.of(), conflict), PRIOR).verdict())
        .isEqualTo(new Verdict.Fail(conflict));
  }

  @Test
  void bisectionHalvesKeepMergeOrderAndRefuseABatchOfOne() {
    assertThat(PlanRules.halves(List.of("a", "b"))).containsExactly(List.of("a"), List.of("b"));
    assertThat(PlanRules.halves(List.of("a", "b", "c", "d", "e", "f", "g", "h")))
        .containsExactly(List.of("a", "b", "c", "d"), List.of("e", "f", "g", "h"));
    assertThatThrownBy(() -> PlanRules.halves(List.of("a"))).isInstanceOf(IllegalArgumentException.class)
        .hasMessageContaining("cannot be split");
  }

  @Test
  void theBudgetTakesPriorityFirstThenLikelihoodThenAge() {
    Candidate oldLikely = new Candidate("b1", new TreeMap<>(), 1.0, 0, 1);
    Candidate newLikely = new Candidate("b5", new TreeMap<>(), 1.0, 0, 5);
    Candidate unlikely = new Candidate("b2", new TreeMap<>(Map.of("b1", false)), 0.1, 0, 2);
    Candidate urgent = new Candidate("b9", new TreeMap<>(Map.of("b1", true)), 0.5, 10, 9);
    List<Candidate> all = new ArrayList<>(List.of(unlikely, newLikely, urgent, oldLikely));
    assertThat(PlanRules.choose(all, 3)).containsExactly(urgent, oldLikely, newLikely);
    assertThat(PlanRules.choose(all, 10)).containsExactly(urgent, oldLikely, newLikely, unlikely);
  }

  @Test
  void anExhaustedBudgetStartsNothing() {
    List<Candidate> all = List.of(new Candidate("b1", new TreeMap<>(), 1.0, 100, 1));
    assertThat(PlanRules.choose(all, 0)).isEmpty();
    assertThat(PlanRules.choose(all, -2)).isEmpty(); // more running than the budget (it was lowered)
  }

  @Test
  void urgentCandidatesLeftWaitingTakeTheSlotsOfLessUrgentRunningBuilds() {
    PlanRules.Running old = new PlanRules.Running(path("b1", PathState.BUILDING, Map.of()), 0, 1);
    PlanRules.Running young = new PlanRules.Running(path("b2", PathState.BUILDING, Map.of()), 0, 2);
    PlanRules.Running hot = new PlanRules.Running(path("b3", PathState.BUILDING, Map.of()), 50, 3);
    Candidate urgent = new Candidate("b9", new TreeMap<>(), 1.0, 10, 9);
    Candidate normal = new Candidate("b8", new TreeMap<>(), 1.0, 0, 8);
    // the youngest of the least urgent goes; a normal candidate takes nothing; an equal priority is not preempted
    assertThat(PlanRules.preempt(List.of(normal, urgent), List.of(old, hot, young), Map.of())).containsExactly(young);
    Candidate urgent2 = new Candidate("b10", new TreeMap<>(), 1.0, 10, 10);
    assertThat(PlanRules.preempt(List.of(urgent, urgent2), List.of(old, hot, young), Map.of()))
        .containsExactly(young, old);
    assertThat(PlanRules.preempt(List.of(urgent), List.of(hot), Map.of())).isEmpty();
    assertThat(PlanRules.preempt(List.of(normal), List.of(old), Map.of())).isEmpty();
    // never the build of a batch the urgent one follows: it needs that batch to land first
    assertThat(PlanRules.preempt(List.of(urgent), List.of(old, young), Map.of("b9", List.of("b2"))))
        .containsExactly(old);
  }

  @Test
  void manyOpenDependenciesAreEnumeratedOnlyAsAllLandOrOneFails() {
    List<Dependency> deps = new ArrayList<>();
    for (int i = 0; i < PlanRules.FULL_ENUMERATION_LIMIT + 2; i++) {
      deps.add(open("d" + i, 1));
    }
    Decision d = PlanRules.decide(view("b", List.of("r"), deps), PRIOR);
    List<Candidate> unbuilt = ((Verdict.Speculate) d.verdict()).unbuilt();
    assertThat(unbuilt).hasSize(deps.size() + 1);
    assertThat(unbuilt).allSatisfy(c -> assertThat(c.assumptions().values().stream().filter(ok -> !ok).count())
        .isLessThanOrEqualTo(1));
  }
}
