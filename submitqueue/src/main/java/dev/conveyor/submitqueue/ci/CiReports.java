package dev.conveyor.submitqueue.ci;

import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.LeasedJobs;
import dev.conveyor.submitqueue.ci.CiBuild.CheckReport;
import dev.conveyor.submitqueue.ci.CiBuild.State;
import dev.conveyor.submitqueue.request.RequestRefused;
import dev.conveyor.submitqueue.request.RequestRefused.Kind;
import java.net.URI;
import java.net.URISyntaxException;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * What a CI report does, in one transaction: checks it against the build (a required check, a URL that
 * is a plain http(s) link, one verdict per check), records it, and when the reports decide the build,
 * moves it to PASSED or FAILED and wakes its parked BUILD job, which removes the staging ref and hands
 * the verdict to the planner. Reporting the same verdict twice is answered as the first time.
 */
public final class CiReports {
  public static final int MAX_URL = 2048;

  private CiReports() {}

  /**
   * A report as it arrived; {@code check} may be empty when the build requires exactly one check, {@code passed}
   * must be given, {@code sha} may be empty (else it must be the build's commit).
   */
  public record Report(String buildId, String check, Boolean passed, String url, String reportedBy, String sha) {}

  public static final int MAX_REPORTED_BY = 256;

  public static CiBuild report(Tx tx, LeasedJobs jobs, Report r) throws SQLException {
    String buildId = Bounds.id("build_id", r.buildId());
    if (r.passed() == null) {
      throw new RequestRefused(Kind.INVALID_ARGUMENT, "passed: say whether the check passed (true) or failed (false)");
    }
    boolean passed = r.passed();
    String by = r.reportedBy() == null || r.reportedBy().isEmpty() ? "ci"
        : Bounds.required("reported_by", r.reportedBy(), MAX_REPORTED_BY);
    String url = url(r.url());
    // reports of one build are decided one after another: two checks reported at once both count
    if (!CiBuilds.lock(tx, buildId)) {
      throw new RequestRefused(Kind.BUILD_NOT_FOUND, "no external build '" + buildId
          + "' (list waiting builds with 'conveyor ci pending')");
    }
    CiBuild build = CiBuilds.find(tx, buildId).orElseThrow();
    if (build.state() == State.STAGING) {
      throw new RequestRefused(Kind.ALREADY_TERMINAL, "build " + buildId + " is still being staged; report once"
          + " 'conveyor ci pending' lists it");
    }
    if (r.sha() != null && !r.sha().isEmpty() && !r.sha().equalsIgnoreCase(build.sha())) {
      throw new RequestRefused(Kind.INVALID_ARGUMENT, "sha: build " + buildId + " is commit " + build.sha()
          + ", not " + Bounds.optional("sha", r.sha(), 64) + "; report the verdict of the build's own commit");
    }
    String check = check(build, r.check());
    for (CheckReport prior : build.reports()) {
      if (prior.check().equals(check)) {
        if (prior.passed() != passed) {
          throw new RequestRefused(Kind.ALREADY_TERMINAL, "check '" + check + "' of build " + buildId
              + " was already reported " + (prior.passed() ? "passed" : "failed") + " by " + prior.reportedBy()
              + "; a check is reported once");
        }
        return settle(tx, jobs, build); // a redelivered report: answered as before, and the verdict made good
      }
    }
    if (build.state().decided()) {
      throw new RequestRefused(Kind.ALREADY_TERMINAL, "build " + buildId + " is already " + build.state()
          + (build.reason() == null || build.reason().isEmpty() ? "" : " (" + build.reason() + ")")
          + "; nothing waits for its checks");
    }
    CiBuilds.insertReport(tx, buildId, check, passed, url, by);
    List<CheckReport> reports = new ArrayList<>(build.reports());
    reports.add(new CheckReport(check, passed, url, by, tx.now()));
    return settle(tx, jobs, with(build, build.state(), build.reason(), reports));
  }

  /**
   * Decides a WAITING build whose reports are conclusive (PASSED or FAILED) and wakes its job; answers the
   * build as it now stands. Call with the build's row locked.
   */
  public static CiBuild settle(Tx tx, LeasedJobs jobs, CiBuild build) throws SQLException {
    State verdict = build.verdict();
    if (build.state() != State.WAITING || verdict == State.WAITING) {
      return build;
    }
    String reason = verdict == State.FAILED ? build.failureReason() : "";
    if (!CiBuilds.decide(tx, build.buildId(), verdict, reason)) {
      return CiBuilds.find(tx, build.buildId()).orElseThrow();
    }
    jobs.wake(tx, build.buildId());
    return with(build, verdict, reason, build.reports());
  }

  private static CiBuild with(CiBuild b, State state, String reason, List<CheckReport> reports) {
    return new CiBuild(b.buildId(), b.queue(), b.pathId(), b.stagingRef(), b.sha(), b.requiredChecks(), state, reason,
        b.refRemoved(), b.deadline(), b.createdAt(), reports);
  }

  private static String check(CiBuild build, String given) {
    if (given == null || given.isEmpty()) {
      if (build.requiredChecks().size() == 1) {
        return build.requiredChecks().get(0);
      }
      throw new RequestRefused(Kind.INVALID_ARGUMENT, "check: build " + build.buildId() + " requires checks "
          + build.requiredChecks() + "; name the one reported (--check NAME)");
    }
    if (!build.requiredChecks().contains(given)) {
      throw new RequestRefused(Kind.INVALID_ARGUMENT, "check: '" + Bounds.text("check", given.length() > 64
          ? given.substring(0, 64) + "…" : given) + "' is not required of build " + build.buildId()
          + " (queue '" + build.queue() + "' requires " + build.requiredChecks() + ")");
    }
    return given;
  }

  /** Null, or an absolute http(s) URL of bounded length with nothing a terminal or page could misread. */
  static String url(String url) {
    if (url == null || url.isEmpty()) {
      return null;
    }
    if (url.length() > MAX_URL) {
      throw new RequestRefused(Kind.INVALID_ARGUMENT, "url: longer than " + MAX_URL + " characters");
    }
    for (int i = 0; i < url.length(); i++) {
      char c = url.charAt(i);
      if (c <= 0x20 || c == 0x7f) {
        throw new RequestRefused(Kind.INVALID_ARGUMENT, "url: contains a space or control character at " + i);
      }
    }
    try {
      URI u = new URI(url);
      String scheme = u.getScheme() == null ? "" : u.getScheme().toLowerCase(java.util.Locale.ROOT);
      if (!(scheme.equals("http") || scheme.equals("https")) || u.getHost() == null) {
        throw new RequestRefused(Kind.INVALID_ARGUMENT, "url: must be an http or https link with a host");
      }
    } catch (URISyntaxException e) {
      throw new RequestRefused(Kind.INVALID_ARGUMENT, "url: not a URL (" + e.getReason() + ")");
    }
    return url;
  }
}
