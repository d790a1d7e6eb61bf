package dev.conveyor.submitqueue.speculate;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.merge.MergeOutcome;
import dev.conveyor.runway.merge.MergePlan;
import dev.conveyor.runway.queue.QueueConfig;
import dev.conveyor.runway.testing.InMemoryMerger;
import dev.conveyor.submitqueue.batch.ConflictAnalysis;
import dev.conveyor.submitqueue.config.SubmitQueueConfig.ConflictAnalyzer;
import dev.conveyor.submitqueue.speculate.PathRecord.PathState;
import dev.conveyor.submitqueue.speculate.PlanRules.Candidate;
import dev.conveyor.submitqueue.speculate.PlanRules.Decision;
import dev.conveyor.submitqueue.speculate.PlanRules.Dependency;
import dev.conveyor.submitqueue.speculate.PlanRules.DependencyState;
import dev.conveyor.submitqueue.speculate.PlanRules.Verdict;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * A merge queue in memory, planned by {@link PlanRules} over {@link InMemoryMerger} trees: requests are
 * batched as the batch stage does (up to {@code batchSize} requests touching no common path, following
 * what conflict analysis says; one that may not join goes alone), then planned round by round. A round is one build time: every pass
 * decides each active batch, starts the chosen builds within the budget, and the round ends with every
 * running build finished. A build passes when its steps apply and its tree holds no file named
 * {@code BROKEN*}; a tree that cannot be made names the step that did not apply. Merges land at once. Splits follow the ledger's rules (parts chained, dependents
 * re-pointed), so bisection trees can be read from {@link #splits()}.
 */
final class QueueSimulation {
  enum State { SPECULATING, SUCCEEDED, FAILED, SPLIT }

  static final class Batch {
    final String id;
    final List<String> members;
    List<String> dependsOn;
    final long createdN;
    State state = State.SPECULATING;
    final List<PathRecord> paths = new ArrayList<>();
    String reason;

    Batch(String id, List<String> members, List<String> dependsOn, long createdN) {
      this.id = id;
      this.members = List.copyOf(members);
      this.dependsOn = new ArrayList<>(dependsOn);
      this.createdN = createdN;
    }
  }

  private final QueueConfig git = QueueConfig.of("sim", "file:///nowhere", "main", Strategy.REBASE);
  private final InMemoryMerger merger = new InMemoryMerger();
  private final int budget;
  private final int batchSize;
  private final double successPrior;
  private final Map<String, ChangeUri> changes = new LinkedHashMap<>();
  private final Map<String, Set<String>> touched = new LinkedHashMap<>();
  private final Map<String, Integer> priorities = new LinkedHashMap<>();
  private final Map<String, Batch> batches = new LinkedHashMap<>();
  /** Build results decided when each build started, finished at the end of the round. */
  private final Map<String, BuildResult> running = new LinkedHashMap<>();
  private int ejections;

  /** A build's result: passed, or failed with the step whose change did not apply (null: the tests failed). */
  private record BuildResult(boolean passed, String conflictStep) {}
  private final List<String> landed = new ArrayList<>();
  private final List<String> splits = new ArrayList<>();
  private int builds;
  private int rounds;
  private long n;
  private Batch filling;

  QueueSimulation(int budget, int batchSize, double successPrior) {
    this.budget = budget;
    this.batchSize = batchSize;
    this.successPrior = successPrior;
    merger.commitToTarget(git, "README", "base");
  }

  /** A change that sets each path to content naming the request; a path named BROKEN* breaks the build. */
  String land(String requestId, int priority, String... paths) {
    Map<String, String> edits = new LinkedHashMap<>();
    for (String p : paths) {
      edits.put(p, requestId);
    }
    changes.put(requestId, merger.change(git, requestId, edits));
    touched.put(requestId, new TreeSet<>(List.of(paths)));
    priorities.put(requestId, priority);
    enqueue(requestId);
    return requestId;
  }

  String land(String requestId, String... paths) {
    return land(requestId, 0, paths);
  }

  /** Batches the request as the batch stage does. */
  private void enqueue(String requestId) {
    Set<String> paths = touched.get(requestId);
    List<ConflictAnalysis.ActiveBatch> active = new ArrayList<>();
    for (Batch b : active()) {
      Set<String> p = new HashSet<>();
      b.members.forEach(m -> p.addAll(touched.get(m)));
      active.add(new ConflictAnalysis.ActiveBatch(b.id, p, b.dependsOn));
    }
    List<String> deps = ConflictAnalysis.dependencies(active, ConflictAnalyzer.PATHS, paths);
    boolean urgent = priorities.get(requestId) > 0;
    boolean open = filling != null && filling.members.size() < batchSize;
    boolean alone = urgent || open && filling.members.stream().anyMatch(m -> touched.get(m).stream()
        .anyMatch(paths::contains));
    boolean followsOpen = open && deps.stream().anyMatch(d -> !d.equals(filling.id)
        && batches.get(d).dependsOn.contains(filling.id));
    if (open && !alone && !followsOpen) {
      Batch joined = new Batch(filling.id, concat(filling.members, requestId), union(filling.dependsOn, deps,
          filling.id), filling.createdN);
      batches.put(joined.id, joined);
      filling = joined;
      return;
    }
    Batch b = new Batch("b" + n, List.of(requestId), deps, n++);
    batches.put(b.id, b);
    if (batchSize > 1 && !alone) {
      filling = b;
    }
  }

  /** Stops batching (the batch-wait ran out): the filling batch is planned like any other. */
  void seal() {
    filling = null;
  }

  /** Plans and builds until every batch has ended; fails when a round changes nothing. */
  void run(int maxRounds) {
    seal();
    while (!active().isEmpty()) {
      if (++rounds > maxRounds) {
        throw new AssertionError("still active after " + maxRounds + " rounds: " + active().stream()
            .map(b -> b.id + b.members).toList());
      }
      pass();
      for (Batch b : batches.values()) {
        for (int i = 0; i < b.paths.size(); i++) {
          PathRecord p = b.paths.get(i);
          if (p.state() == PathState.BUILDING) {
            BuildResult r = running.remove(p.pathId());
            b.paths.set(i, p.ended(r.passed() ? PathState.PASSED : PathState.FAILED, r.passed() ? "passed"
                : r.conflictStep() != null ? "conflict" : "tests failed", r.conflictStep()));
          }
        }
      }
    }
  }

  /** One planning pass over the active batches, oldest first, then the builds the budget allows. */
  void pass() {
    List<Candidate> candidates = new ArrayList<>();
    for (Batch b : active()) {
      List<Dependency> deps = new ArrayList<>();
      for (String d : b.dependsOn) {
        Batch dep = batches.get(d);
        deps.add(new Dependency(d, dep.state == State.SPECULATING ? DependencyState.OPEN
            : dep.state == State.SUCCEEDED ? DependencyState.LANDED : DependencyState.NOT_LANDED, dep.members.size()));
      }
      int priority = b.members.stream().mapToInt(priorities::get).max().orElse(0);
      Decision d = PlanRules.decide(new PlanRules.BatchView(b.id, b.members, priority, b.createdN, deps, b.paths),
          successPrior);
      d.cancels().forEach(c -> cancel(b, c.path(), c.why()));
      Verdict v = d.verdict();
      if (v instanceof Verdict.Speculate s) {
        candidates.addAll(s.unbuilt());
      } else if (v instanceof Verdict.Merge) {
        merge(b);
      } else if (v instanceof Verdict.Fail f) {
        end(b, State.FAILED, f.failed().reason());
      } else if (v instanceof Verdict.Bisect split) {
        splits.add(b.id);
        split(b, split.parts(), true);
      } else if (v instanceof Verdict.Eject eject) {
        ejections++;
        List<String> rest = b.members.stream().filter(m -> !m.equals(eject.culprit())).toList();
        boolean own = rest.stream().noneMatch(m -> touched.get(m).stream().anyMatch(touched.get(eject.culprit())::contains));
        split(b, List.of(rest, List.of(eject.culprit())), !own);
        if (own) {
          end(batches.get(b.id + ".2"), State.FAILED, "conflict");
        }
      }
    }
    long building = batches.values().stream().flatMap(b -> b.paths.stream())
        .filter(p -> p.state() == PathState.BUILDING).count();
    for (Candidate c : PlanRules.choose(candidates, budget - building)) {
      Batch b = batches.get(c.batchId());
      if (b.state == State.SPECULATING) {
        String id = PathRecord.idOf(b.id, c.assumptions());
        b.paths.add(new PathRecord(id, b.id, c.assumptions(), PathState.BUILDING, null, null));
        BuildResult result = passes(b, c.assumptions());
        running.put(id, result);
        if (result.conflictStep() == null) {
          builds++; // a tree that cannot be made runs no build
        }
      }
    }
  }

  private BuildResult passes(Batch b, Map<String, Boolean> assumptions) {
    List<MergePlan.Step> steps = new ArrayList<>();
    for (String d : b.dependsOn) {
      Batch dep = batches.get(d);
      if (Boolean.TRUE.equals(assumptions.get(d)) && dep.state != State.SUCCEEDED) {
        dep.members.forEach(m -> steps.add(step(m)));
      }
    }
    b.members.forEach(m -> steps.add(step(m)));
    MergeOutcome o = merger.merge(new MergePlan(b.id, git, steps, true));
    if (o instanceof MergeOutcome.Failed f) {
      return new BuildResult(false, f.stepId());
    }
    return new BuildResult(merger.tree(((MergeOutcome.Succeeded) o).newTip()).keySet().stream()
        .noneMatch(p -> p.startsWith("BROKEN")), null);
  }

  private void merge(Batch b) {
    MergeOutcome o = merger.merge(new MergePlan(b.id, git, b.members.stream().map(this::step).toList(), false));
    if (o instanceof MergeOutcome.Failed f) {
      end(b, State.FAILED, "conflict: " + f.reason());
      return;
    }
    if (merger.files(git).keySet().stream().anyMatch(p -> p.startsWith("BROKEN"))) {
      throw new AssertionError("a broken change reached the target with batch " + b.id + b.members);
    }
    landed.addAll(b.members);
    end(b, State.SUCCEEDED, "landed");
  }

  private void split(Batch b, List<List<String>> parts, boolean chained) {
    b.paths.replaceAll(p -> p.state() == PathState.BUILDING ? cancelled(p, "split") : p);
    end(b, State.SPLIT, "split");
    List<String> ids = new ArrayList<>();
    for (int i = 0; i < parts.size(); i++) {
      List<String> deps = new ArrayList<>(b.dependsOn);
      if (chained && i > 0) {
        deps.add(ids.get(i - 1));
      }
      Batch part = new Batch(b.id + "." + (i + 1), parts.get(i), deps, b.createdN);
      batches.put(part.id, part);
      ids.add(part.id);
    }
    for (Batch other : batches.values()) {
      if (other.dependsOn.remove(b.id)) {
        other.dependsOn.addAll(ids);
      }
    }
  }

  private void end(Batch b, State to, String why) {
    b.state = to;
    b.reason = why;
    b.paths.replaceAll(p -> p.state() == PathState.BUILDING ? cancelled(p, "batch ended") : p);
  }

  private void cancel(Batch b, PathRecord p, String why) {
    b.paths.replaceAll(q -> q.pathId().equals(p.pathId()) ? cancelled(q, why) : q);
  }

  private PathRecord cancelled(PathRecord p, String why) {
    running.remove(p.pathId());
    return p.ended(PathState.CANCELLED, why, null);
  }

  private MergePlan.Step step(String requestId) {
    return new MergePlan.Step(requestId, List.of(changes.get(requestId)), Strategy.REBASE);
  }

  private List<Batch> active() {
    return batches.values().stream().filter(b -> b.state == State.SPECULATING)
        .sorted(java.util.Comparator.comparingLong((Batch b) -> b.createdN).thenComparing(b -> b.id)).toList();
  }

  private static List<String> concat(List<String> list, String one) {
    List<String> out = new ArrayList<>(list);
    out.add(one);
    return out;
  }

  private static List<String> union(List<String> a, List<String> b, String self) {
    List<String> out = new ArrayList<>(a);
    b.stream().filter(x -> !out.contains(x) && !x.equals(self)).forEach(out::add);
    return out;
  }

  /** Requests that landed, in landing order. */
  List<String> landed() {
    return landed;
  }

  /** Requests whose batch of one failed (by build or conflict). */
  Set<String> rejected() {
    Set<String> out = new TreeSet<>();
    batches.values().stream().filter(b -> b.state == State.FAILED).forEach(b -> out.addAll(b.members));
    return out;
  }

  /** Batches split after a failed build, in the order they were split. */
  List<String> splits() {
    return splits;
  }

  Batch batch(String id) {
    return batches.get(id);
  }

  /** How the builds ended, by path state and reason (what a build that did not decide anything was for). */
  Map<String, Integer> buildOutcomes() {
    Map<String, Integer> out = new java.util.TreeMap<>();
    batches.values().forEach(b -> b.paths.forEach(p -> out.merge(p.state() + " " + (p.state() == PathState.CANCELLED
        ? p.reason().replaceAll(" \\(.*", "") : (p.assumptions().containsValue(false) ? "assuming a failure"
        : "assuming all land")), 1, Integer::sum)));
    return out;
  }

  /** Members ejected from their batch because their change did not apply. */
  int ejections() {
    return ejections;
  }

  /** Builds run (started; a tree that could not be made is not one). */
  int builds() {
    return builds;
  }

  int rounds() {
    return rounds;
  }

  Map<String, String> target() {
    return merger.files(git);
  }
}
