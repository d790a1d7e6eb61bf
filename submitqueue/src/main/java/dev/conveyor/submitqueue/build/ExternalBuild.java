package dev.conveyor.submitqueue.build;

import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.submitqueue.BuildSpec;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.JobErrors;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.runway.merge.MergeOutcome;
import dev.conveyor.runway.merge.MergePlans;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.runway.merge.StagingRefs;
import dev.conveyor.submitqueue.ci.CiBuild;
import dev.conveyor.submitqueue.ci.CiBuild.State;
import dev.conveyor.submitqueue.ci.CiBuilds;
import dev.conveyor.submitqueue.ci.CiReports;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;
import org.eclipse.jgit.lib.ObjectId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One BUILD job of a queue whose builds run in the team's CI. First lease: make the speculative tree (a
 * dry run), push it to the path's staging ref, record the build as WAITING and park the job until the
 * build timeout: no worker slot is held while CI works. A report that decides the build wakes the job;
 * so does the deadline. Next lease: take the verdict (or time the build out), remove the staging ref, and
 * answer it like a local build's. A lease that finds the build still waiting before its deadline (a
 * worker restarted) parks it again.
 */
final class ExternalBuild {
  private static final Logger log = LoggerFactory.getLogger(ExternalBuild.class);

  /** What this lease came to. */
  sealed interface Step {
    /** Waiting for CI: the job is parked, nothing to answer. */
    record Parked() implements Step {}

    record Verdict(boolean passed, String reason) implements Step {}

    /** No tree: the step whose change does not apply (or null) and why. */
    record Conflict(String stepId, String reason) implements Step {}
  }

  private final Ledger ledger;
  private final Merger merger;
  private final SubmitQueues queues;
  private final LeaseGrant grant;
  private final java.time.Duration lease;
  private final dev.conveyor.submitqueue.notify.Notifications notifications;

  ExternalBuild(Ledger ledger, Merger merger, SubmitQueues queues, LeaseGrant grant, java.time.Duration lease,
      dev.conveyor.submitqueue.notify.Notifications notifications) {
    this.notifications = notifications;
    this.ledger = ledger;
    this.merger = merger;
    this.queues = queues;
    this.grant = grant;
    this.lease = lease;
  }

  Step run(BuildSpec spec, SubmitQueueConfig queue) throws IOException, dev.conveyor.runway.merge.MergeRejection {
    String jobId = grant.job().id();
    List<String> checks = spec.getRequiredChecksList().isEmpty() ? queue.runner().requiredChecks()
        : spec.getRequiredChecksList();
    Optional<CiBuild> known = ledger.read(tx -> CiBuilds.find(tx, jobId));
    if (known.isEmpty() || known.get().state() == State.STAGING) {
      return stage(spec, queue, checks);
    }
    // one transaction with the build's row locked: a report committing now is either seen here or sees this
    record Settled(CiBuild build, boolean parked) {}
    Settled settled = ledger.transact(tx -> {
      CiBuilds.lock(tx, jobId);
      CiBuild build = CiReports.settle(tx, ledger.jobs(), CiBuilds.find(tx, jobId).orElseThrow());
      if (build.state() != State.WAITING) {
        return new Settled(build, false);
      }
      if (tx.now().isBefore(build.deadline())) { // leased before its deadline (a worker restarted): wait on
        if (!ledger.jobs().park(tx, jobId, grant.epoch(), build.deadline(), waitingNote(checks))) {
          throw new JobErrors.LeaseLostException(jobId, "the lease ended while parking the build");
        }
        return new Settled(build, true);
      }
      String reason = "timed out after " + queue.buildTimeout() + " waiting for CI: " + describe(build);
      CiBuilds.decide(tx, jobId, State.TIMED_OUT, reason);
      return new Settled(CiBuilds.find(tx, jobId).orElseThrow(), false);
    });
    if (settled.parked()) {
      return new Step.Parked();
    }
    CiBuild build = settled.build();
    removeRef(queue, build);
    return switch (build.state()) {
      case PASSED -> new Step.Verdict(true, "");
      case FAILED, TIMED_OUT -> new Step.Verdict(false, build.reason());
      case ENDED, WAITING, STAGING -> new Step.Verdict(false, "the external build ended without a verdict"
          + (build.reason() == null ? "" : ": " + build.reason()));
    };
  }

  /**
   * Records the build (STAGING, with its commit) before pushing, so no staging ref ever exists that no row
   * names (the sweeper removes it if the job ends first); then pushes, and parks the job WAITING.
   */
  private Step stage(BuildSpec spec, SubmitQueueConfig queue, List<String> checks)
      throws IOException, dev.conveyor.runway.merge.MergeRejection {
    String jobId = grant.job().id();
    MergeRequest tree = MergeRequest.newBuilder().setId(spec.getPathId()).setQueueName(spec.getQueue())
        .addAllSteps(spec.getStepsList()).build();
    MergeOutcome outcome = merger.merge(MergePlans.plan(tree, queues.runway(), true));
    if (outcome instanceof MergeOutcome.Failed failed) {
      return new Step.Conflict(failed.stepId(), failed.reason());
    }
    ObjectId tip = ((MergeOutcome.Succeeded) outcome).newTip();
    String ref = StagingRefs.of(queue.name(), spec.getPathId(), jobId);
    ledger.transact(tx -> {
      ledger.jobs().requireHeld(tx, jobId, grant.epoch());
      CiBuilds.staging(tx, jobId, queue.name(), spec.getPathId(), ref, tip.name(), checks,
          tx.now().plus(queue.buildTimeout()));
      return null;
    });
    ledger.jobs().renew(jobId, grant.epoch(), lease); // a long merge must not let the lease lapse mid-push
    merger.stage(queue.git(), tip, ref);
    Instant deadline = ledger.transact(tx -> {
      Instant until = tx.now().plus(queue.buildTimeout());
      if (!CiBuilds.waiting(tx, jobId, until)
          || !ledger.jobs().park(tx, jobId, grant.epoch(), until, waitingNote(checks))) {
        throw new JobErrors.LeaseLostException(jobId, "the lease ended before the build was staged");
      }
      notifications.buildWanted(tx, queue.name(), jobId, ref, tip.name(), checks,
          dev.conveyor.submitqueue.ci.CiBuilds.remoteShown(queue.git().origin()));
      return until;
    });
    log.info("queue {}: build {} staged at {} ({}), waiting for {} until {}", queue.name(), jobId, ref,
        tip.abbreviate(12).name(), checks, deadline);
    return new Step.Parked();
  }

  private static String waitingNote(List<String> checks) {
    return "waiting for CI checks " + checks;
  }

  /** Removes the staging ref; a failure leaves it to the sweeper ({@link dev.conveyor.submitqueue.ci.StagingSweeper}). */
  private void removeRef(SubmitQueueConfig queue, CiBuild build) {
    if (build.refRemoved()) {
      return;
    }
    try {
      merger.unstage(queue.git(), build.stagingRef(), ObjectId.fromString(build.sha()));
      ledger.transact(tx -> {
        CiBuilds.refRemoved(tx, build.buildId());
        return null;
      });
    } catch (IOException | RuntimeException e) {
      log.warn("queue {}: cannot remove staging ref {} yet ({}); the sweeper will", queue.name(), build.stagingRef(),
          e.getMessage());
    }
  }

  private static String describe(CiBuild build) {
    StringBuilder s = new StringBuilder("no verdict for ").append(String.join(", ", build.missing()));
    for (CiBuild.CheckReport r : build.reports()) {
      s.append("; ").append(r.check()).append(r.passed() ? " passed" : " failed");
    }
    return s.toString();
  }

}
