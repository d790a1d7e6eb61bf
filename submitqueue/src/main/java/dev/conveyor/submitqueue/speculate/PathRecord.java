package dev.conveyor.submitqueue.speculate;

import java.util.Map;
import java.util.SortedMap;
import java.util.TreeMap;

/**
 * A speculative path of a batch: whether each dependency is assumed to succeed, and the state of
 * the build of the tree those assumptions give.
 */
public record PathRecord(String pathId, String batchId, SortedMap<String, Boolean> assumptions, PathState state,
    String jobId, String reason, String conflictStep) {

  public enum PathState { BUILDING, PASSED, FAILED, CANCELLED }

  /** How the reason of a path failed for want of any verdict (its builds' jobs kept failing) begins. */
  public static final String NO_VERDICT = "no verdict: ";

  /** Whether the path failed because no build gave a verdict, rather than because its build failed. */
  public boolean noVerdict() {
    return state == PathState.FAILED && reason != null && reason.startsWith(NO_VERDICT);
  }

  public PathRecord {
    assumptions = new TreeMap<>(assumptions);
  }

  /** A path whose tree was made (or not yet tried): no step to blame for a conflict. */
  public PathRecord(String pathId, String batchId, SortedMap<String, Boolean> assumptions, PathState state,
      String jobId, String reason) {
    this(pathId, batchId, assumptions, state, jobId, reason, null);
  }

  /** The same path, ended. */
  public PathRecord ended(PathState to, String why, String step) {
    return new PathRecord(pathId, batchId, assumptions, to, jobId, why, step);
  }

  public static String encode(Map<String, Boolean> assumptions) {
    StringBuilder sb = new StringBuilder();
    new TreeMap<>(assumptions).forEach((dep, ok) -> sb.append(dep).append('=').append(ok ? '1' : '0').append('\n'));
    return sb.toString();
  }

  static SortedMap<String, Boolean> decode(String text) {
    SortedMap<String, Boolean> m = new TreeMap<>();
    for (String line : text.split("\n")) {
      if (!line.isEmpty()) {
        int eq = line.lastIndexOf('=');
        m.put(line.substring(0, eq), line.charAt(eq + 1) == '1');
      }
    }
    return m;
  }

  /** Deterministic, so a redelivered planning pass finds the path it created before. */
  public static String idOf(String batchId, Map<String, Boolean> assumptions) {
    return batchId + "#" + dev.conveyor.ledger.Hashing.sha256Hex(encode(assumptions)).substring(0, 16);
  }

  /** Whether this path's assumptions contradict a dependency's known outcome. */
  public boolean refutedBy(Map<String, Boolean> outcomes) {
    for (var e : assumptions.entrySet()) {
      Boolean real = outcomes.get(e.getKey());
      if (real != null && !real.equals(e.getValue())) {
        return true;
      }
    }
    return false;
  }

  public String describe() {
    if (assumptions.isEmpty()) {
      return "no dependencies";
    }
    StringBuilder sb = new StringBuilder();
    assumptions.forEach((d, ok) -> sb.append(sb.length() == 0 ? "" : ", ").append(d).append(ok ? " lands" : " fails"));
    return sb.toString();
  }
}
