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
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import java.io.IOException;
import java.time.Duration;
import java.time.Instant;
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

  ExternalBuild(Ledger ledger, Merger merger, SubmitQueues queues, LeaseGrant grant) {
    this.ledger = ledger;
    this.merger = merger;
    this.queues = queues;
    this.grant = grant;
  }

  Step run(BuildSpec spec, SubmitQueueConfig queue) throws IOException, dev.conveyor.runway.merge.MergeRejection {
    String jobId = grant.job().id();
    Optional<CiBuild> known = ledger.read(tx -> CiBuilds.find(tx, jobId));
    if (known.isEmpty()) {
      return stage(spec, queue);
    }
    CiBuild build = known.get();
    if (build.state() == State.WAITING) {
      Instant now = ledger.read(tx -> tx.now());
      if (now.isBefore(build.deadline())) {
        park(build.deadline(), queue);
        return new Step.Parked();
      }
      String reason = "timed out after " + queue.buildTimeout() + " waiting for CI: " + describe(build);
      boolean timedOut = ledger.transact(tx -> CiBuilds.decide(tx, jobId, State.TIMED_OUT, reason));
      build = timedOut ? build : ledger.read(tx -> CiBuilds.find(tx, jobId)).orElseThrow(); // a report came first
      if (timedOut) {
        removeRef(queue, build);
        return new Step.Verdict(false, reason);
      }
    }
    removeRef(queue, build);
    return switch (build.state()) {
      case PASSED -> new Step.Verdict(true, "");
      case FAILED, TIMED_OUT -> new Step.Verdict(false, build.reason());
      case ENDED, WAITING -> new Step.Verdict(false, "the external build ended without a verdict"
          + (build.reason() == null ? "" : ": " + build.reason()));
    };
  }

  private Step stage(BuildSpec spec, SubmitQueueConfig queue) throws IOException, dev.conveyor.runway.merge.MergeRejection {
    MergeRequest tree = MergeRequest.newBuilder().setId(spec.getPathId()).setQueueName(spec.getQueue())
        .addAllSteps(spec.getStepsList()).build();
    MergeOutcome outcome = merger.merge(MergePlans.plan(tree, queues.runway(), true));
    if (outcome instanceof MergeOutcome.Failed failed) {
      return new Step.Conflict(failed.stepId(), failed.reason());
    }
    ObjectId tip = ((MergeOutcome.Succeeded) outcome).newTip();
    String ref = StagingRefs.of(queue.name(), spec.getPathId());
    merger.stage(queue.git(), tip, ref);
    Instant deadline = ledger.transact(tx -> {
      Instant until = tx.now().plus(queue.buildTimeout());
      CiBuilds.insertWaiting(tx, grant.job().id(), queue.name(), spec.getPathId(), ref, tip.name(),
          queue.runner().requiredChecks(), until);
      if (!ledger.jobs().park(tx, grant.job().id(), grant.epoch(), until, waitingNote(queue))) {
        throw new JobErrors.LeaseLostException(grant.job().id(), "the lease ended before the build was staged");
      }
      return until;
    });
    log.info("queue {}: build {} staged at {} ({}), waiting for {} until {}", queue.name(), grant.job().id(), ref,
        tip.abbreviate(12).name(), queue.runner().requiredChecks(), deadline);
    return new Step.Parked();
  }

  private void park(Instant until, SubmitQueueConfig queue) {
    boolean parked = ledger.transact(tx -> ledger.jobs().park(tx, grant.job().id(), grant.epoch(), until,
        waitingNote(queue)));
    if (!parked) {
      throw new JobErrors.LeaseLostException(grant.job().id(), "the lease ended while parking the build");
    }
  }

  private static String waitingNote(SubmitQueueConfig queue) {
    return "waiting for CI checks " + queue.runner().requiredChecks();
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
