package dev.conveyor.submitqueue.ci;

import java.time.Instant;
import java.util.List;

/**
 * One external build: the staging ref and commit CI builds, the checks its queue requires, what was
 * reported so far, and its state. {@code buildId} is the BUILD job's id.
 */
public record CiBuild(String buildId, String queue, String pathId, String stagingRef, String sha,
    List<String> requiredChecks, State state, String reason, boolean refRemoved, Instant deadline, Instant createdAt,
    List<CheckReport> reports) {

  public enum State {
    /** Recorded before its staging ref is pushed (a ref never exists without a row naming it). */
    STAGING,
    /** Pushed to its staging ref; CI has not decided yet. */
    WAITING,
    PASSED,
    FAILED,
    /** The build timeout passed before every required check was reported. */
    TIMED_OUT,
    /** Its path ended first (cancelled, preempted): no verdict is wanted any more. */
    ENDED;

    public boolean decided() {
      return this != WAITING && this != STAGING;
    }
  }

  /** One check's reported verdict. */
  public record CheckReport(String check, boolean passed, String url, String reportedBy, Instant reportedAt) {}

  public CiBuild {
    requiredChecks = List.copyOf(requiredChecks);
    reports = List.copyOf(reports);
  }

  /** What the reports so far decide: PASSED when every required check passed, FAILED on a failed one, else WAITING. */
  public State verdict() {
    int passed = 0;
    for (CheckReport r : reports) {
      if (!requiredChecks.contains(r.check())) {
        continue;
      }
      if (!r.passed()) {
        return State.FAILED;
      }
      passed++;
    }
    return passed == requiredChecks.size() ? State.PASSED : State.WAITING;
  }

  /** The reason a FAILED verdict gives: the first failed check, with where to read it. */
  public String failureReason() {
    for (CheckReport r : reports) {
      if (!r.passed() && requiredChecks.contains(r.check())) {
        return "check '" + r.check() + "' failed" + (r.url() == null ? "" : ": " + r.url())
            + (r.reportedBy() == null ? "" : " (reported by " + r.reportedBy() + ")");
      }
    }
    return "no check failed";
  }

  /** The required checks with no report yet. */
  public List<String> missing() {
    return requiredChecks.stream().filter(c -> reports.stream().noneMatch(r -> r.check().equals(c))).toList();
  }
}
