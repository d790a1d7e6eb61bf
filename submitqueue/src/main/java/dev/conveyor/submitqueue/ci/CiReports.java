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

  /** A report as it arrived; {@code check} may be empty when the build requires exactly one check. */
  public record Report(String buildId, String check, boolean passed, String url, String reportedBy) {}

  public static CiBuild report(Tx tx, LeasedJobs jobs, Report r) throws SQLException {
    String buildId = Bounds.id("build_id", r.buildId());
    String by = r.reportedBy() == null || r.reportedBy().isEmpty() ? "ci" : Bounds.id("reported_by", r.reportedBy());
    String url = url(r.url());
    CiBuild build = CiBuilds.find(tx, buildId).orElseThrow(() -> new RequestRefused(Kind.BUILD_NOT_FOUND,
        "no external build '" + buildId + "' (list waiting builds with 'conveyor ci pending')"));
    String check = check(build, r.check());
    for (CheckReport prior : build.reports()) {
      if (prior.check().equals(check)) {
        if (prior.passed() == r.passed()) {
          return build; // a redelivered report
        }
        throw new RequestRefused(Kind.ALREADY_TERMINAL, "check '" + check + "' of build " + buildId
            + " was already reported " + (prior.passed() ? "passed" : "failed") + " by " + prior.reportedBy()
            + "; a check is reported once");
      }
    }
    if (build.state().decided()) {
      throw new RequestRefused(Kind.ALREADY_TERMINAL, "build " + buildId + " is already " + build.state()
          + (build.reason() == null ? "" : " (" + build.reason() + ")") + "; nothing waits for its checks");
    }
    CiBuilds.insertReport(tx, buildId, check, r.passed(), url, by);
    List<CheckReport> reports = new ArrayList<>(build.reports());
    reports.add(new CheckReport(check, r.passed(), url, by, tx.now()));
    CiBuild now = new CiBuild(build.buildId(), build.queue(), build.pathId(), build.stagingRef(), build.sha(),
        build.requiredChecks(), build.state(), build.reason(), build.refRemoved(), build.deadline(), build.createdAt(),
        reports);
    State verdict = now.verdict();
    if (verdict == State.WAITING) {
      return now;
    }
    String reason = verdict == State.FAILED ? now.failureReason() : "";
    CiBuilds.decide(tx, buildId, verdict, reason);
    jobs.wake(tx, buildId);
    return new CiBuild(now.buildId(), now.queue(), now.pathId(), now.stagingRef(), now.sha(), now.requiredChecks(),
        verdict, reason, now.refRemoved(), now.deadline(), now.createdAt(), reports);
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
