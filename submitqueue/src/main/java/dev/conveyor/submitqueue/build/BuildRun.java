package dev.conveyor.submitqueue.build;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.runway.MergeRequest;
import dev.conveyor.api.submitqueue.BuildSignal;
import dev.conveyor.api.submitqueue.BuildSpec;
import dev.conveyor.ledger.FailureKind;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Completion;
import dev.conveyor.ledger.jobs.JobErrors;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.messagequeue.stream.IntentId;
import dev.conveyor.runway.merge.GitFailures;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.runway.merge.MergeOutcome;
import dev.conveyor.runway.merge.MergePlans;
import dev.conveyor.runway.merge.MergeRejection;
import dev.conveyor.runway.merge.UnsafeTreeException;
import dev.conveyor.submitqueue.health.MainChecks;
import dev.conveyor.submitqueue.speculate.PathRecord.PathState;
import dev.conveyor.submitqueue.speculate.Paths;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import java.io.IOException;
import java.io.InputStream;
import java.io.InputStreamReader;
import java.io.Reader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Comparator;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One BUILD job: make the speculative tree with Runway's merger (a dry run: target tip plus the
 * path's steps), write it safely to a fresh directory, run the queue's build command there through
 * the queue's {@link BuildRunner} with a timeout, store its output as it comes (secrets masked; its
 * head and tail, see {@link LogLimits}), heartbeat, and stop the process tree when the job is cancelled or the lease is lost. The result
 * and its BuildSignal commit together. A failed build's reason says what failed, never what it
 * printed: output is read through {@code conveyor build log}, by users with the role.
 */
final class BuildRun {
  private static final Logger log = LoggerFactory.getLogger(BuildRun.class);

  private final Ledger ledger;
  private final Signals signals;
  private final SubmitQueues queues;
  private final Merger merger;
  private final BuildRunners runners;
  private final LeaseGrant grant;
  private final Path dir;
  private final Path scratch;
  private final Duration lease;
  private final LogLimits logLimits;
  private final BuildObserver observer;
  private final BuildVerdicts verdicts;

  BuildRun(Ledger ledger, Signals signals, SubmitQueues queues, Merger merger, BuildRunners runners,
      LeaseGrant grant, Path workRoot, Duration lease, LogLimits logLimits, BuildObserver observer) {
    this.observer = observer;
    this.verdicts = new BuildVerdicts(new dev.conveyor.messagequeue.effects.EffectClaims(ledger));
    this.ledger = ledger;
    this.signals = signals;
    this.queues = queues;
    this.merger = merger;
    this.runners = runners;
    this.grant = grant;
    this.dir = workRoot.resolve(grant.job().id());
    this.scratch = workRoot.resolve(grant.job().id() + ".home");
    this.lease = lease;
    this.logLimits = logLimits;
  }

  private String outcome = "stopped";
  private String queue = "";

  /**
   * How the run ended: passed, failed, conflict (no tree to build), retried, lease-lost, stopped
   * (interrupted), waiting (an external build handed to CI, its job parked), or replayed (an earlier attempt's
   * verdict, whose completion was lost, completed the job).
   */
  String outcome() {
    return outcome;
  }

  String queue() {
    return queue;
  }

  void run() {
    String jobId = grant.job().id();
    try (var job = org.slf4j.MDC.putCloseable("job", jobId)) {
      runLogged(jobId);
    }
  }

  private void runLogged(String jobId) {
    BuildSpec spec;
    try {
      spec = ProtoJson.fromBytes(grant.job().payload(), BuildSpec.getDefaultInstance());
    } catch (ProtoJson.PayloadException e) {
      outcome = "failed";
      complete(new Completion.Failed("undecodable build spec: " + e.getMessage(), Completion.Disposition.TERMINAL), null);
      return;
    }
    this.queue = spec.getQueue();
    try {
      ledger.jobs().start(jobId, grant.epoch());
      if (spec.getVerifySha().isEmpty()) {
        var decided = verdicts.decided(jobId);
        if (decided.isPresent()) { // an earlier attempt built it; only its completion was lost
          log.info("build {}: decided by an earlier attempt whose completion was lost; completing from its claim",
              jobId);
          BuildSignal verdict = decided.get();
          outcome = "replayed";
          complete(verdict.getPassed() ? new Completion.Succeeded(null)
              : new Completion.Failed(verdict.getReason(), Completion.Disposition.TERMINAL), verdict);
          return;
        }
      }
      SubmitQueueConfig queue = queues.find(spec.getQueue()).orElse(null);
      if (queue == null) {
        finish(spec, false, "queue '" + spec.getQueue() + "' is not configured on this build worker");
        return;
      }
      if (spec.getExternal()) { // the job decides, not this worker's configuration
        ExternalBuild.Step step = new ExternalBuild(ledger, merger, queues, grant, lease,
            new dev.conveyor.submitqueue.notify.Notifications(queues, signals)).run(spec, queue);
        if (step instanceof ExternalBuild.Step.Parked) {
          this.outcome = "waiting";
        } else if (step instanceof ExternalBuild.Step.Conflict c) {
          conflict(spec, c.stepId(), c.reason());
        } else if (step instanceof ExternalBuild.Step.Verdict v) {
          finish(spec, v.passed(), v.passed() ? "" : "build " + jobId + ": " + v.reason());
        }
        return;
      }
      if (spec.getCommand().isBlank()) {
        finish(spec, false, "build " + jobId + ": no build command (queue '" + spec.getQueue()
            + "' was planned without one); nothing was built");
        return;
      }
      org.eclipse.jgit.lib.ObjectId treeCommit;
      if (!spec.getVerifySha().isEmpty()) { // post-merge verification of a commit the target already has
        merger.changedPaths(queue.git(), List.of()); // fetches the target, which holds it (targets only advance)
        treeCommit = org.eclipse.jgit.lib.ObjectId.fromString(spec.getVerifySha());
      } else {
        MergeRequest tree = MergeRequest.newBuilder().setId(spec.getPathId()).setQueueName(spec.getQueue())
            .addAllSteps(spec.getStepsList()).build();
        MergeOutcome outcome = merger.merge(MergePlans.plan(tree, queues.runway(), true));
        if (outcome instanceof MergeOutcome.Failed failed) {
          conflict(spec, failed.stepId(), failed.reason());
          return;
        }
        treeCommit = ((MergeOutcome.Succeeded) outcome).newTip();
      }
      BuildOutput output = new BuildOutput(queue.isolation().secretValues(), logLimits);
      List<String> failures = new java.util.ArrayList<>();
      for (int attempt = 1; ; attempt++) {
        deleteQuietly(dir); // left by a process killed mid-build, or by the attempt before
        deleteQuietly(scratch);
        try {
          merger.export(queue.git(), treeCommit, dir);
        } catch (UnsafeTreeException e) {
          finish(spec, false, "refused to write out the speculative tree: " + e.getMessage());
          return;
        }
        Files.createDirectory(scratch);
        String failed = runCommand(spec, runners.forQueue(queue), output, attempt);
        if (failed == null) {
          return; // passed, cancelled or lease lost: already answered
        }
        failures.add(failed);
        if (attempt > queue.buildRetries()) {
          flushLog(output, true);
          finish(spec, false, "build " + jobId + ": " + String.join("; then ", failures)
              + (failures.size() > 1 ? " (" + failures.size() + " attempts)" : "")
              + " (output: conveyor build log " + jobId + ")");
          return;
        }
        // a flaky build gets build-retries more runs in a fresh copy of the same tree; the log shows each
        String note = "\n--- conveyor: attempt " + attempt + " of " + (queue.buildRetries() + 1) + " failed ("
            + failed + "); running the build again ---\n";
        output.append(note.toCharArray(), note.length());
        flushLog(output, false);
      }
    } catch (MergeRejection e) {
      conflict(spec, e.stepId(), e.describe());
    } catch (IOException e) {
      log.warn("build {}: {}; will retry", jobId, e.toString());
      outcome = "retried";
      // a busy remote or a cache write race says nothing about the build: it keeps its attempt
      complete(new Completion.Failed(e.toString(), GitFailures.isTransient(e)
          ? Completion.Disposition.WAITING_ON_DEPENDENCY : Completion.Disposition.RETRYABLE), null);
    } catch (JobErrors.LeaseLostException e) {
      outcome = "lease-lost";
      log.info("build {}: lease lost, stopping", jobId);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    } finally {
      deleteQuietly(dir);
      deleteQuietly(scratch);
    }
  }

  /**
   * Runs the build command once in the written-out tree, with {@code CONVEYOR_BUILD_ATTEMPT} set (1, then
   * 2… on build-retries). Answers null when the build passed (answered) or was stopped (cancelled,
   * lease lost: answered or left), else why this attempt failed.
   */
  private String runCommand(BuildSpec spec, BuildRunner runner, BuildOutput output, int attempt)
      throws IOException, InterruptedException {
    String jobId = grant.job().id();
    Process process = runner.start("export CONVEYOR_BUILD_ATTEMPT=" + attempt + "\n" + spec.getCommand(), dir,
        scratch);
    Thread reader = new Thread(() -> pump(process.getInputStream(), output), "build-log-" + jobId);
    reader.setDaemon(true);
    reader.start();
    try {
      return supervise(spec, process, reader, output);
    } catch (InterruptedException | RuntimeException e) {
      kill(process);
      throw e;
    }
  }

  private String supervise(BuildSpec spec, Process process, Thread reader, BuildOutput output)
      throws InterruptedException {
    String jobId = grant.job().id();
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(spec.getTimeoutMs());
    long beat = Math.max(200, Math.min(2_000, lease.toMillis() / 3));
    while (!process.waitFor(beat, TimeUnit.MILLISECONDS)) {
      flushLog(output, false);
      var status = ledger.jobs().renew(jobId, grant.epoch(), lease);
      if (!status.renewed() || status.cancellationRequested()) {
        kill(process);
        reader.join(5_000);
        flushLog(output, true);
        if (status.renewed()) {
          complete(new Completion.Cancelled("build cancelled"), null);
        }
        return null;
      }
      if (System.nanoTime() > deadline) {
        kill(process);
        reader.join(5_000);
        flushLog(output, false);
        return "timed out after " + Duration.ofMillis(spec.getTimeoutMs());
      }
    }
    reader.join(5_000);
    int exit = process.exitValue();
    if (exit == 0) {
      flushLog(output, true);
      finish(spec, true, "");
      return null;
    }
    flushLog(output, false);
    return "the build command exited " + exit;
  }

  private static void pump(InputStream in, BuildOutput output) {
    char[] buf = new char[8192];
    try (Reader r = new InputStreamReader(in, StandardCharsets.UTF_8)) {
      for (int n; (n = r.read(buf)) > 0; ) {
        output.append(buf, n);
      }
    } catch (IOException e) {
      // the process was killed; what was read is kept
    }
  }

  private void flushLog(BuildOutput output, boolean last) {
    BuildOutput.Drained drained = output.drain(last);
    if (!drained.isEmpty()) {
      ledger.transact(tx -> {
        BuildLogs.append(tx, grant.job().id(), drained, logLimits);
        return null;
      });
    }
  }

  /** Kills the build and every process it started (bwrap also takes its sandbox down with it). */
  static void kill(Process process) {
    process.descendants().forEach(ProcessHandle::destroyForcibly);
    process.destroyForcibly();
  }

  /** The tree could not be made: no build ran; the step whose change did not apply is named, when known. */
  private void conflict(BuildSpec spec, String stepId, String why) {
    finish(spec, false, "conflict: the speculative tree does not apply: " + why, stepId);
  }

  private void finish(BuildSpec spec, boolean passed, String reason) {
    finish(spec, passed, reason, null);
  }

  private void finish(BuildSpec spec, boolean passed, String reason, String conflictStep) {
    outcome = passed ? "passed" : conflictStep != null ? "conflict" : "failed";
    if (!spec.getVerifySha().isEmpty()) {
      verified(spec, passed, reason);
      return;
    }
    BuildSignal signal = BuildSignal.newBuilder().setBatchId(spec.getBatchId()).setQueue(spec.getQueue())
        .setPathId(spec.getPathId()).setJobId(grant.job().id()).setPassed(passed).setReason(reason)
        .setConflictStep(conflictStep == null ? "" : conflictStep).build();
    // the verdict is stored as the build's effect first: should the completion below be lost, the next
    // holder finishes from it instead of building again (and a late attempt answers the first verdict)
    BuildSignal verdict = verdicts.record(ledger.jobs(), grant.job().id(), grant.epoch(), signal);
    observer.verdictRecorded(grant.job().id());
    complete(verdict.getPassed() ? new Completion.Succeeded(null)
        : new Completion.Failed(verdict.getReason(), Completion.Disposition.TERMINAL), verdict);
  }

  /**
   * A post-merge verification's verdict: the job's completion and the target's health commit together (a
   * red commit pauses the queue, {@link MainChecks#record}); a green one then moves the remote's
   * {@code refs/conveyor/<queue>/last-green} to it (best effort: the ledger holds the truth).
   */
  private void verified(BuildSpec spec, boolean passed, String reason) {
    String jobId = grant.job().id();
    String why = passed ? "" : reason.startsWith("build " + jobId + ": ") ? reason.substring(jobId.length() + 8) : reason;
    pending = tx -> {
      String paused = MainChecks.record(tx, queues, signals,
          (t, commit) -> dev.conveyor.submitqueue.health.Verifications.enqueue(t, ledger.jobs(), queues,
              spec.getQueue(), commit.batchId(), commit.sha(), "bisect/" + commit.sha()),
          jobId, spec.getQueue(), spec.getVerifySha(), spec.getBatchId(), passed,
          !spec.getPathId().startsWith("bisect/"), "post-merge-command: " + why);
      if (paused != null) {
        tx.afterCommit(() -> log.warn("queue {} paused: {}", spec.getQueue(), paused));
      }
    };
    complete(passed ? new Completion.Succeeded(null) : new Completion.Failed(reason, Completion.Disposition.TERMINAL),
        null);
    var queue = queues.find(spec.getQueue());
    if (passed && queue.isPresent()) {
      try {
        // last-green only moves forward: a late verdict on an older commit (a bisection's) leaves it (best
        // effort: two verdicts racing here may still push in either order; the ledger holds the truth)
        if (!ledger.read(tx -> dev.conveyor.submitqueue.health.Bisection.lastGreen(tx, spec.getQueue()))
            .map(c -> c.sha().equals(spec.getVerifySha())).orElse(false)) {
          return;
        }
        merger.stage(queue.get().git(), org.eclipse.jgit.lib.ObjectId.fromString(spec.getVerifySha()),
            dev.conveyor.runway.merge.StagingRefs.of(spec.getQueue(), "last-green"));
      } catch (IOException | RuntimeException e) {
        log.warn("queue {}: could not move last-green to {}: {}", spec.getQueue(), spec.getVerifySha(), e.getMessage());
      }
    }
  }

  /** Work a verification adds to its completion's transaction. */
  private interface TxWork {
    void run(dev.conveyor.ledger.Tx tx) throws java.sql.SQLException;
  }

  private TxWork pending;

  /**
   * Completes the job, and publishes its BuildSignal in the same transaction. A ledger outage longer
   * than the ledger's own retry budget does not lose the verdict: the completion is tried again for as
   * long as the lease is still ours (renewed, or not yet expired by our own reckoning when even renewing
   * fails), so the reaper never has to count an attempt for a build that finished.
   */
  private void complete(Completion completion, BuildSignal signal) {
    long leaseEnds = System.nanoTime() + lease.toNanos();
    for (int round = 1; ; round++) {
      try {
        dev.conveyor.ledger.Tx.Work<Object> work = tx -> {
          ledger.jobs().complete(tx, grant.job().id(), grant.epoch(), completion);
          if (pending != null) {
            pending.run(tx);
          }
          if (signal != null) {
            // the verdict reaches its path with the job's end: a planner that sees the job ended never
            // mistakes a verdict not yet delivered for a job that ran out of attempts
            Paths.finishBuild(tx, signal.getPathId(), signal.getJobId(), signal.getPassed() ? PathState.PASSED
                : PathState.FAILED, signal.getReason(), signal.getConflictStep().isEmpty() ? null : signal.getConflictStep());
            signals.publish(tx, SubmitQueueTopics.BUILDSIGNAL, signal.getQueue(),
                IntentId.of(signal.getPathId() + "@" + signal.getJobId(), "built"), signal); // a path may be rebuilt
          }
          return null;
        };
        if (pending == null) {
          ledger.transactGrouped(work); // builds finishing together share one commit
        } else {
          ledger.transact(work); // a verdict locks its queue's row: never inside another queue's group commit
        }
        return;
      } catch (JobErrors.LeaseLostException e) {
        log.info("build {}: lease lost before completion; the next holder decides", grant.job().id());
        return;
      } catch (RuntimeException e) {
        if (!FailureKind.of(e).isTransient() || Thread.currentThread().isInterrupted()) {
          throw e;
        }
        log.warn("build {}: cannot record the build's outcome yet ({}); trying again", grant.job().id(),
            e.getMessage());
        try {
          if (ledger.jobs().renew(grant.job().id(), grant.epoch(), lease).renewed()) {
            leaseEnds = System.nanoTime() + lease.toNanos();
          } else {
            log.info("build {}: lease lapsed during a ledger outage; the next holder decides", grant.job().id());
            return;
          }
        } catch (JobErrors.LeaseLostException lost) {
          return;
        } catch (RuntimeException renewFailed) {
          if (!FailureKind.of(renewFailed).isTransient() || System.nanoTime() - leaseEnds > 0) {
            log.warn("build {}: the ledger stayed unavailable past the lease; the next holder decides",
                grant.job().id());
            return;
          }
        }
        try {
          TimeUnit.MILLISECONDS.sleep(Math.min(5_000, 200L << Math.min(5, round)));
        } catch (InterruptedException stop) {
          Thread.currentThread().interrupt();
          return;
        }
      }
    }
  }

  /** Deletes {@code dir} and what is in it, never following a link a build left there. */
  private static void deleteQuietly(Path dir) {
    if (!Files.exists(dir, java.nio.file.LinkOption.NOFOLLOW_LINKS)) {
      return;
    }
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
    } catch (IOException e) {
      log.warn("cannot clean build directory {}: {}", dir, e.getMessage());
    }
  }
}
