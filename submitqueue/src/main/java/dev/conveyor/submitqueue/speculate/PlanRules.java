package dev.conveyor.submitqueue.speculate;

import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * What the planner decides, as functions of values: no ledger, no git, no clock. {@link SpeculationPlanner}
 * reads a batch into a {@link BatchView}, asks {@link #decide} and carries the {@link Decision} out; the
 * queue's candidates go through {@link #choose}. Kept apart so the rules get fast unit tests.
 */
public final class PlanRules {
  /** Beyond this many unresolved dependencies only "all land" and single failures are considered. */
  static final int FULL_ENUMERATION_LIMIT = 8;

  private PlanRules() {}

  /** Where a dependency stands: still open, or ended (landed or not). */
  public enum DependencyState { OPEN, LANDED, NOT_LANDED }

  /** A batch this one follows: its state and how many requests it carries (more requests, less likely to land). */
  public record Dependency(String batchId, DependencyState state, int members) {}

  /** A speculating batch as the planner sees it; {@code paths} with their builds' states already reconciled. */
  public record BatchView(String batchId, List<String> members, int priority, long createdN,
      List<Dependency> dependencies, List<PathRecord> paths) {
    public BatchView {
      members = List.copyOf(members);
      dependencies = List.copyOf(dependencies);
      paths = List.copyOf(paths);
    }
  }

  /** A path worth building: the batch on these assumptions, with the probability they all hold. */
  public record Candidate(String batchId, SortedMap<String, Boolean> assumptions, double probability, int priority,
      long createdN) {
    public Candidate {
      assumptions = new TreeMap<>(assumptions);
    }
  }

  /** A running build to stop, and why. */
  public record Cancel(PathRecord path, String why) {}

  /** What becomes of the batch. */
  public sealed interface Verdict {
    /** Its build on the real outcomes of every dependency passed: merge it. */
    record Merge(PathRecord passed) implements Verdict {}

    /** Its only request's build on the real outcomes failed: the request ends. */
    record Fail(PathRecord failed) implements Verdict {}

    /**
     * Its tree on the real outcomes could not be made because {@code culprit}'s change does not apply: that
     * request ends as a conflict and the others go on together in a batch of their own, without bisection.
     */
    record Eject(PathRecord failed, String culprit) implements Verdict {}

    /** Its build on the real outcomes failed with several requests: split in {@code parts}, in order, chained. */
    record Bisect(PathRecord failed, List<List<String>> parts) implements Verdict {
      public Bisect {
        parts = parts.stream().map(List::copyOf).toList();
      }
    }

    /** Still waiting; these paths are not built yet (none: everything worth building is). */
    record Speculate(List<Candidate> unbuilt) implements Verdict {
      public Speculate {
        unbuilt = List.copyOf(unbuilt);
      }
    }
  }

  /** The builds to stop, then the verdict. */
  public record Decision(List<Cancel> cancels, Verdict verdict) {
    public Decision {
      cancels = List.copyOf(cancels);
    }
  }

  /**
   * One batch's decision. Builds whose assumptions a dependency's real outcome contradicts, or made on
   * dependencies the batch no longer has (one was split), are cancelled. With every dependency ended, the
   * build on the real outcomes decides (or is the one candidate): passed, the batch merges; failed, a batch
   * of one fails, a member whose change did not apply is ejected, a batch no build gave a verdict on fails
   * whole, and any other batch is bisected; otherwise every assignment of the open
   * dependencies not yet built is a candidate, with probability {@code successPrior}^members per landing.
   */
  public static Decision decide(BatchView b, double successPrior) {
    Map<String, Boolean> outcomes = new TreeMap<>();
    List<String> open = new ArrayList<>();
    Map<String, Double> chance = new TreeMap<>();
    for (Dependency d : b.dependencies()) {
      switch (d.state()) {
        case LANDED -> outcomes.put(d.batchId(), true);
        case NOT_LANDED -> outcomes.put(d.batchId(), false);
        case OPEN -> {
          open.add(d.batchId());
          chance.put(d.batchId(), Math.pow(successPrior, d.members()));
        }
      }
    }
    Set<String> dependsOn = b.dependencies().stream().map(Dependency::batchId).collect(
        java.util.stream.Collectors.toSet());
    List<Cancel> cancels = new ArrayList<>();
    for (PathRecord p : b.paths()) {
      if (p.state() != PathRecord.PathState.BUILDING) {
        continue;
      }
      if (p.refutedBy(outcomes)) {
        cancels.add(new Cancel(p, "refuted: a dependency's real outcome contradicts this path (" + p.describe() + ")"));
      } else if (!p.assumptions().keySet().equals(dependsOn)) {
        cancels.add(new Cancel(p, "its dependencies changed: a batch it assumed was split (" + p.describe() + ")"));
      }
    }
    if (open.isEmpty()) {
      PathRecord real = b.paths().stream().filter(p -> p.assumptions().equals(outcomes)
          && p.state() != PathRecord.PathState.CANCELLED).findFirst().orElse(null);
      if (real == null) {
        return new Decision(cancels, new Verdict.Speculate(List.of(new Candidate(b.batchId(), new TreeMap<>(outcomes),
            1.0, b.priority(), b.createdN()))));
      }
      return new Decision(cancels, switch (real.state()) {
        case PASSED -> new Verdict.Merge(real);
        // no verdict (infrastructure): splitting would learn nothing, so the batch fails as a whole
        case FAILED -> b.members().size() == 1 || real.noVerdict() ? new Verdict.Fail(real)
            : real.conflictStep() != null && b.members().contains(real.conflictStep()) ? new Verdict.Eject(real, real.conflictStep())
            : new Verdict.Bisect(real, halves(b.members()));
        case BUILDING, CANCELLED -> new Verdict.Speculate(List.of());
      });
    }
    List<Candidate> unbuilt = new ArrayList<>();
    for (Map<String, Boolean> guess : assignments(open)) {
      SortedMap<String, Boolean> full = new TreeMap<>(outcomes);
      full.putAll(guess);
      if (b.paths().stream().noneMatch(p -> p.assumptions().equals(full))) {
        double probability = 1.0;
        for (String dep : open) {
          probability *= guess.get(dep) ? chance.get(dep) : 1 - chance.get(dep);
        }
        unbuilt.add(new Candidate(b.batchId(), full, probability, b.priority(), b.createdN()));
      }
    }
    return new Decision(cancels, new Verdict.Speculate(unbuilt));
  }

  /**
   * The candidates to build with {@code freeSlots} builds free: a higher priority first, then the likeliest
   * path, then the oldest batch.
   */
  public static List<Candidate> choose(List<Candidate> candidates, long freeSlots) {
    if (freeSlots <= 0) {
      return List.of();
    }
    return candidates.stream().sorted(Comparator.comparingInt(Candidate::priority).reversed()
        .thenComparing(Comparator.comparingDouble(Candidate::probability).reversed())
        .thenComparingLong(Candidate::createdN)
        .thenComparing(Candidate::batchId)).limit(freeSlots).toList();
  }

  /** A running build as preemption sees it: its path, its batch's priority and age. */
  public record Running(PathRecord path, int priority, long createdN) {}

  /**
   * The running builds that urgent candidates left waiting by {@link #choose} take the slots of: for each
   * waiting candidate of priority above 0, most urgent first, the running build of the lowest priority below
   * its own (the youngest batch among equals) that is not of a batch it follows ({@code follows}: batch to
   * what it follows; it needs those to land first), each build taken once. Stopped builds run again later.
   */
  public static List<Running> preempt(List<Candidate> waiting, List<Running> running,
      Map<String, List<String>> follows) {
    List<Running> free = new ArrayList<>(running);
    free.sort(Comparator.comparingInt(Running::priority).thenComparing(Comparator.comparingLong(Running::createdN)
        .reversed()));
    List<Running> taken = new ArrayList<>();
    waiting.stream().filter(c -> c.priority() > 0).sorted(Comparator.comparingInt(Candidate::priority).reversed())
        .forEach(c -> {
          List<String> needed = follows.getOrDefault(c.batchId(), List.of());
          free.stream().filter(r -> r.priority() < c.priority() && !needed.contains(r.path().batchId())).findFirst()
              .ifPresent(r -> {
                free.remove(r);
                taken.add(r);
              });
        });
    return taken;
  }

  /** A failed batch's two parts: the first half (rounded down) and the rest, in merge order. */
  public static List<List<String>> halves(List<String> members) {
    if (members.size() < 2) {
      throw new IllegalArgumentException("a batch of " + members.size() + " cannot be split");
    }
    int half = members.size() / 2;
    return List.of(List.copyOf(members.subList(0, half)), List.copyOf(members.subList(half, members.size())));
  }

  /** Every success/failure assignment of the open dependencies, or the likeliest ones when there are many. */
  static List<Map<String, Boolean>> assignments(List<String> open) {
    List<Map<String, Boolean>> out = new ArrayList<>();
    if (open.size() <= FULL_ENUMERATION_LIMIT) {
      for (int mask = 0; mask < 1 << open.size(); mask++) {
        Map<String, Boolean> m = new TreeMap<>();
        for (int i = 0; i < open.size(); i++) {
          m.put(open.get(i), (mask & (1 << i)) == 0);
        }
        out.add(m);
      }
      return out;
    }
    Map<String, Boolean> allLand = new TreeMap<>();
    open.forEach(d -> allLand.put(d, true));
    out.add(allLand);
    for (String failing : open) {
      Map<String, Boolean> m = new TreeMap<>(allLand);
      m.put(failing, false);
      out.add(m);
    }
    return out;
  }
}
