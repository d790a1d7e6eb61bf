package dev.conveyor.submitqueue.speculate;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.runway.MergeStep;
import dev.conveyor.api.submitqueue.BatchInfo.State;
import dev.conveyor.api.submitqueue.BuildSpec;
import dev.conveyor.ledger.Tx;
import dev.conveyor.ledger.jobs.Job;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.jobs.JobState;
import dev.conveyor.ledger.jobs.LeasedJobs;
import dev.conveyor.submitqueue.batch.BatchRecord;
import dev.conveyor.submitqueue.batch.BatchStage;
import dev.conveyor.submitqueue.batch.Batches;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.control.QueueStates;
import dev.conveyor.submitqueue.pipeline.Signals;
import dev.conveyor.submitqueue.pipeline.SubmitQueueTopics;
import dev.conveyor.submitqueue.request.RequestRecord;
import dev.conveyor.submitqueue.request.Requests;
import dev.conveyor.submitqueue.speculate.PlanRules.Candidate;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.List;

/**
 * One planning pass over a queue's active batches, in one transaction. For each speculating batch:
 * paths refuted by a dependency's real outcome lose their builds; with every dependency resolved, a
 * passed build on the real outcomes sends the batch to merge and a failed one fails it; otherwise
 * the unbuilt paths become candidates. Candidates of the whole queue are then built best-first
 * (most probable path, then oldest batch) within the queue's build budget.
 */
public final class SpeculationPlanner {
  /** New jobs a path's build gets when its job ran out of attempts without a verdict. */
  static final int REBUILDS = 2;
  private static final org.slf4j.Logger log = org.slf4j.LoggerFactory.getLogger(SpeculationPlanner.class);

  private final LeasedJobs jobs;
  private final Signals signals;
  private final java.util.concurrent.atomic.AtomicLong bisections = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong ejections = new java.util.concurrent.atomic.AtomicLong();
  private final java.util.concurrent.atomic.AtomicLong preemptions = new java.util.concurrent.atomic.AtomicLong();

  public SpeculationPlanner(LeasedJobs jobs, Signals signals) {
    this.jobs = jobs;
    this.signals = signals;
  }

  public void pass(Tx tx, SubmitQueueConfig queue) throws SQLException {
    // a paused queue records what its builds found, but starts no build and no merge until resumed
    boolean paused = QueueStates.get(tx, queue.name()).paused();
    List<Candidate> candidates = new ArrayList<>();
    QueueView view = QueueView.read(tx, queue.name());
    for (String id : view.activeIds()) {
      BatchRecord b = view.batch(tx, id);
      if (BatchStage.filling(queue, b, tx.nowMillis())) {
        continue; // it may still take members; its batch-wait wake-up, or a newer batch, plans it
      }
      if (b.state() == State.CREATED) {
        if (!Batches.transition(tx, b, State.SPECULATING, null)) { // a filling batch's reason goes with it
          // a member joined since this pass read the batch: plan again from the start
          throw new dev.conveyor.ledger.OptimisticConflictException("batch " + id + " changed while planning");
        }
        b = Batches.get(tx, id);
        view.replaced(b); // what follows it sees it speculating, without reading it again
      }
      if (b.state() == State.SPECULATING) {
        plan(tx, queue, b, candidates, paused, view);
      }
    }
    if (paused) {
      return;
    }
    long free = queue.buildBudget() - Paths.building(tx, queue.name());
    List<Candidate> chosen = PlanRules.choose(candidates, free);
    if (free >= 0 && chosen.size() < candidates.size() && candidates.stream().anyMatch(c -> c.priority() > 0)) {
      // an urgent request does not wait for running builds of less urgent ones: it takes their slots (never
      // those of what it follows, which it needs to land first; an over-budget queue just drains)
      List<Candidate> waiting = new ArrayList<>(candidates);
      waiting.removeAll(chosen);
      java.util.Map<String, List<String>> follows = new java.util.HashMap<>();
      for (Candidate c : waiting) {
        if (c.priority() > 0 && !follows.containsKey(c.batchId())) {
          follows.put(c.batchId(), view.batch(tx, c.batchId()).dependsOn());
        }
      }
      List<PlanRules.Running> stopped = PlanRules.preempt(waiting, running(tx, view), follows);
      for (PlanRules.Running r : stopped) {
        preempt(tx, r.path());
      }
      chosen = PlanRules.choose(candidates, free + stopped.size());
    }
    for (Candidate c : chosen) {
      startBuild(tx, queue, c, view);
    }
  }

  private void plan(Tx tx, SubmitQueueConfig queue, BatchRecord b, List<Candidate> candidates, boolean paused,
      QueueView view) throws SQLException {
    while (Batches.followSplits(tx, b, view::maybeSplit)) {
      view.touched(b.batchId());
      b = Batches.get(tx, b.batchId()); // made while a batch it follows was split: it follows the parts now
    }
    List<PlanRules.Dependency> deps = new ArrayList<>();
    for (String dep : b.dependsOn()) {
      QueueView.Dependency d = view.dependency(tx, dep);
      if (d.state() == State.SPLIT) { // split after followSplits read it: not an outcome; plan again
        throw new dev.conveyor.ledger.OptimisticConflictException("dependency " + dep + " was split while planning");
      }
      deps.add(new PlanRules.Dependency(dep, !BatchRecord.TERMINAL.contains(d.state())
          ? PlanRules.DependencyState.OPEN
          : d.state() == State.SUCCEEDED ? PlanRules.DependencyState.LANDED : PlanRules.DependencyState.NOT_LANDED,
          d.members()));
    }
    List<PathRecord> paths = new ArrayList<>();
    for (PathRecord p : Paths.forBatch(tx, b.batchId())) {
      paths.add(reconcileWithJob(tx, queue, p, deps, view));
    }
    PlanRules.Decision decision = PlanRules.decide(new PlanRules.BatchView(b.batchId(), b.requestIds(),
        view.priority(tx, b.batchId()), b.createdN(), deps, paths), queue.successPrior());
    for (PlanRules.Cancel c : decision.cancels()) {
      cancelBuild(tx, c.path(), c.why());
    }
    PlanRules.Verdict verdict = decision.verdict();
    if (!(verdict instanceof PlanRules.Verdict.Speculate)) {
      view.touched(b.batchId()); // it may merge, fail or split now: what follows it reads it afresh
    }
    if (verdict instanceof PlanRules.Verdict.Speculate s) {
      candidates.addAll(s.unbuilt());
    } else if (verdict instanceof PlanRules.Verdict.Merge m) {
      if (!paused && Batches.transition(tx, b, State.MERGING, null)) {
        cancelOthers(tx, paths, m.passed(), "the batch is merging on another path");
        signals.batch(tx, SubmitQueueTopics.MERGE, b.queue(), b.batchId(), "merge");
      }
    } else if (verdict instanceof PlanRules.Verdict.Bisect split) {
      bisect(tx, b, paths, split);
    } else if (verdict instanceof PlanRules.Verdict.Eject eject) {
      eject(tx, queue, b, paths, eject);
    } else if (verdict instanceof PlanRules.Verdict.Fail f) {
      if (reverify(tx, queue, b, f.failed())) {
        return;
      }
      if (Batches.transition(tx, b, State.FAILED, failure(f.failed()))) {
        cancelOthers(tx, paths, f.failed(), "the batch failed");
        signals.batch(tx, SubmitQueueTopics.CONCLUDE, b.queue(), b.batchId(), "build-failed");
      }
    }
  }

  /**
   * The re-verify rule ({@code paths} only, a batch of its own that was never split, once): a change whose
   * build failed may have been built on a main that lacked a change it needs, with no path in common to order
   * them. While a batch made before it is still active, its failure waits (when that batch ends, the queue is
   * planned again); then, if anything landed since its build's base, the failed path is forgotten and the
   * change is built once more on the new main. Answers whether the failure was held back.
   */
  private boolean reverify(Tx tx, SubmitQueueConfig queue, BatchRecord b, PathRecord failed) throws SQLException {
    if (queue.analyzer() != SubmitQueueConfig.ConflictAnalyzer.PATHS || b.requestIds().size() != 1
        || b.batchId().matches(".*\\.[12]$") || failed.conflictStep() != null) {
      return false;
    }
    if (tx.queryLong("SELECT reverified FROM sq_batches WHERE batch_id = ?", b.batchId()) == 1) {
      return false;
    }
    if (tx.queryLong("SELECT COUNT(*) FROM sq_batches WHERE queue = ? AND created_n < ? AND state NOT IN"
        + " ('SUCCEEDED', 'FAILED', 'CANCELLED', 'SPLIT')", b.queue(), b.createdN()) > 0) {
      return true; // one of the earlier batches may be what it needs: decide when they have ended
    }
    if (Landings.landedSince(tx, b.queue(), failed.pathId(), b.dependsOn()) == 0 || !Landings.markReverified(tx,
        b.batchId()) || !Paths.forgetFailed(tx, failed.pathId())) {
      return false;
    }
    log.info("batch {}: its build failed on a main that has changed since; building it once more on the new main"
        + " before failing it", b.batchId());
    signals.batch(tx, SubmitQueueTopics.SPECULATE, b.queue(), b.batchId(), "reverify");
    return true;
  }

  /**
   * A batch of several requests failed on its real dependencies: it is split in halves, the second
   * depending on the first (built assuming the first lands, as it would have in the batch), and each is
   * planned like any batch, so halves are built side by side within the budget and split again until the
   * requests that fail are alone (those end ERROR with their own build's reason) while every other lands.
   * Nobody is charged for the split: a request's history shows BATCHED once.
   */
  private void bisect(Tx tx, BatchRecord b, List<PathRecord> paths, PlanRules.Verdict.Bisect split)
      throws SQLException {
    PathRecord failed = split.failed();
    String why = "split in two after its build failed (" + failed.describe() + "): " + failed.reason();
    cancelOthers(tx, paths, failed, "the batch is being split");
    List<String> halves = Batches.split(tx, b, split.parts(), true, why);
    tx.afterCommit(bisections::incrementAndGet); // a pass that rolls back and runs again counts once
    signals.batch(tx, SubmitQueueTopics.SPECULATE, b.queue(), halves.get(0), "split");
  }

  /**
   * A member's change does not apply on the real outcomes: the rest goes on as one batch (following what
   * the batch followed) and is built again, and the member goes on alone in {@code <id>.2}. When nothing
   * else in the batch can have caused the conflict (no other member touches its paths, none fast-forwards)
   * it fails there and then as a conflict; otherwise its part follows the rest's, so it is tried again on
   * top of them and ends by its own verdict.
   */
  private void eject(Tx tx, SubmitQueueConfig queue, BatchRecord b, List<PathRecord> paths,
      PlanRules.Verdict.Eject eject) throws SQLException {
    List<String> rest = b.requestIds().stream().filter(r -> !r.equals(eject.culprit())).toList();
    boolean ownFault = conflictIsItsOwn(tx, queue, eject.culprit(), rest);
    cancelOthers(tx, paths, eject.failed(), "a member is being ejected");
    List<String> parts = Batches.split(tx, b, List.of(rest, List.of(eject.culprit())), !ownFault,
        "request " + eject.culprit() + " went on alone: its change does not apply (" + eject.failed().describe() + ")");
    tx.afterCommit(ejections::incrementAndGet);
    if (ownFault) {
      BatchRecord alone = Batches.get(tx, parts.get(1));
      if (!Batches.transition(tx, alone, State.FAILED, failure(eject.failed()))) {
        throw new dev.conveyor.ledger.OptimisticConflictException("batch " + alone.batchId() + " changed while ejecting");
      }
      signals.batch(tx, SubmitQueueTopics.CONCLUDE, b.queue(), alone.batchId(), "conflict");
    }
    signals.batch(tx, SubmitQueueTopics.SPECULATE, b.queue(), parts.get(0), "ejected");
  }

  /** Whether no other member can have made {@code culprit}'s change fail to apply. */
  private static boolean conflictIsItsOwn(Tx tx, SubmitQueueConfig queue, String culprit, List<String> others)
      throws SQLException {
    RequestRecord c = Requests.get(tx, culprit);
    java.util.Set<String> touched = new java.util.HashSet<>(c.paths());
    for (String id : others) {
      RequestRecord o = Requests.get(tx, id);
      if (o.paths().stream().anyMatch(touched::contains) || fastForwards(queue, o) || fastForwards(queue, c)) {
        return false;
      }
    }
    return true;
  }

  private static boolean fastForwards(SubmitQueueConfig queue, RequestRecord r) {
    dev.conveyor.api.base.Strategy s = r.strategy() == dev.conveyor.api.base.Strategy.DEFAULT
        ? queue.git().defaultStrategy() : r.strategy();
    return s == dev.conveyor.api.base.Strategy.PROMOTE;
  }

  /** One wording per cause: a conflict is a conflict, a failed build a failed build. */
  private static String failure(PathRecord failed) {
    String why = failed.reason() == null ? "" : failed.reason().replaceFirst("^conflict: ", "");
    if (failed.noVerdict()) {
      return "no build verdict (" + failed.describe() + "): " + failed.reason().substring(PathRecord.NO_VERDICT.length());
    }
    return (failed.conflictStep() != null ? "conflict (" : "build failed (") + failed.describe() + "): " + why;
  }

  private static List<PlanRules.Running> running(Tx tx, QueueView view) throws SQLException {
    List<PlanRules.Running> out = new ArrayList<>();
    for (String batchId : view.activeIds()) {
      BatchRecord b = view.batch(tx, batchId);
      if (b.terminal()) {
        continue; // ended in this pass
      }
      for (PathRecord p : Paths.forBatch(tx, batchId)) {
        if (p.state() == PathRecord.PathState.BUILDING) {
          out.add(new PlanRules.Running(p, view.priority(tx, batchId), b.createdN()));
        }
      }
    }
    return out;
  }

  /**
   * Stops a running build for an urgent request: the path is forgotten (so it is a candidate again, built
   * later with a new job) and its job cancelled; a verdict it still sends finds no path and changes nothing.
   */
  private void preempt(Tx tx, PathRecord p) throws SQLException {
    if (Paths.forget(tx, p.pathId())) {
      if (p.jobId() != null) {
        jobs.cancel(tx, p.jobId(), "preempted: an urgent request needed its build slot");
      }
      tx.afterCommit(() -> {
        preemptions.incrementAndGet();
        log.info("batch {}: build of path {} preempted by an urgent request; it will be built again", p.batchId(),
            p.describe());
      });
    }
  }

  /** Running builds stopped for an urgent request (counted since start). */
  public long preemptions() {
    return preemptions.get();
  }

  /** Members ejected because their change did not apply (counted since start). */
  public long ejections() {
    return ejections.get();
  }

  /** Batches split after a failed build (counted since start). */
  public long bisections() {
    return bisections.get();
  }

  /**
   * A build whose job ended without a verdict (a verdict is recorded on the path as the job completes) ran
   * out of attempts on infrastructure failures: it is handed to a new job, up to {@value #REBUILDS} times,
   * and only then fails, as "no verdict" (its batch is not bisected: splitting would learn nothing).
   */
  private PathRecord reconcileWithJob(Tx tx, SubmitQueueConfig queue, PathRecord p, List<PlanRules.Dependency> deps,
      QueueView view) throws SQLException {
    if (p.state() != PathRecord.PathState.BUILDING || p.jobId() == null) {
      return p;
    }
    Job job = jobs.get(tx, p.jobId());
    if (job.state() != JobState.FAILED && job.state() != JobState.CANCELLED) {
      return p;
    }
    int rebuilds = Paths.rebuilds(tx, p.pathId());
    // out of attempts, not ended by a verdict at an earlier one (a verdict from a worker that only signals)
    boolean outOfAttempts = job.state() == JobState.FAILED && job.attempts() >= job.maxAttempts();
    if (outOfAttempts && rebuilds < REBUILDS && stillWanted(p, deps)) {
      // built anew from the batch as it is now (a dependency may have landed since)
      String jobId = enqueueBuild(tx, queue, p.batchId(), p.assumptions(), view);
      if (!Paths.rebuild(tx, p.pathId(), p.jobId(), jobId)) {
        throw new dev.conveyor.ledger.OptimisticConflictException("path " + p.pathId() + " changed while rebuilding");
      }
      tx.afterCommit(() -> log.info("batch {}: build job {} ended without a verdict ({}); building path {} again as"
          + " job {}", p.batchId(), job.id(), job.lastError(), p.describe(), jobId));
      return new PathRecord(p.pathId(), p.batchId(), p.assumptions(), p.state(), jobId, p.reason());
    }
    PathRecord.PathState to = job.state() == JobState.FAILED ? PathRecord.PathState.FAILED
        : PathRecord.PathState.CANCELLED;
    String reason = to == PathRecord.PathState.FAILED && outOfAttempts
        ? PathRecord.NO_VERDICT + (rebuilds + 1) + " build jobs ran out of attempts; the last, " + job.id() + ": "
            + job.lastError()
        : "build job " + job.id() + " ended " + job.state() + ": " + job.lastError();
    if (!Paths.finish(tx, p.pathId(), to, reason)) {
      throw new dev.conveyor.ledger.OptimisticConflictException("path " + p.pathId() + " ended while planning");
    }
    return new PathRecord(p.pathId(), p.batchId(), p.assumptions(), to, p.jobId(), reason);
  }

  /** Whether the path is still worth a build: its assumptions are about the batch's dependencies, none refuted. */
  private static boolean stillWanted(PathRecord p, List<PlanRules.Dependency> deps) {
    java.util.Map<String, Boolean> outcomes = new java.util.HashMap<>();
    for (PlanRules.Dependency d : deps) {
      if (d.state() != PlanRules.DependencyState.OPEN) {
        outcomes.put(d.batchId(), d.state() == PlanRules.DependencyState.LANDED);
      }
    }
    return !p.refutedBy(outcomes) && p.assumptions().keySet().equals(
        deps.stream().map(PlanRules.Dependency::batchId).collect(java.util.stream.Collectors.toSet()));
  }

  private void cancelOthers(Tx tx, List<PathRecord> paths, PathRecord keep, String why) throws SQLException {
    for (PathRecord p : paths) {
      if (!p.pathId().equals(keep.pathId()) && p.state() == PathRecord.PathState.BUILDING) {
        cancelBuild(tx, p, why);
      }
    }
  }

  /** Cancels every running build of a batch (it was cancelled, or it ended). */
  public void cancelAll(Tx tx, String batchId, String why) throws SQLException {
    for (PathRecord p : Paths.forBatch(tx, batchId)) {
      if (p.state() == PathRecord.PathState.BUILDING) {
        cancelBuild(tx, p, why);
      }
    }
  }

  private void cancelBuild(Tx tx, PathRecord p, String why) throws SQLException {
    if (Paths.finish(tx, p.pathId(), PathRecord.PathState.CANCELLED, why) && p.jobId() != null) {
      jobs.cancel(tx, p.jobId(), why);
    }
  }

  private void startBuild(Tx tx, SubmitQueueConfig queue, Candidate c, QueueView view) throws SQLException {
    Paths.insertBuilding(tx, c.batchId(), c.assumptions(),
        enqueueBuild(tx, queue, c.batchId(), c.assumptions(), view));
  }

  /**
   * A BUILD job for the batch on these assumptions: the target's tip, then the requests of every dependency
   * assumed to land that has not landed yet, then the batch's. No dedupe key: the path row is the build's
   * identity, and a preempted path's old job may still be live.
   */
  private String enqueueBuild(Tx tx, SubmitQueueConfig queue, String batchId,
      java.util.Map<String, Boolean> assumptions, QueueView view) throws SQLException {
    BatchRecord batch = view.batch(tx, batchId);
    BuildSpec.Builder spec = BuildSpec.newBuilder().setQueue(queue.name()).setBatchId(batchId)
        .setPathId(PathRecord.idOf(batchId, assumptions)).setCommand(queue.buildCommand())
        .setTimeoutMs(queue.buildTimeout().toMillis()).setExternal(queue.runner().external())
        .addAllRequiredChecks(queue.runner().requiredChecks());
    for (String dep : batch.dependsOn()) {
      if (Boolean.TRUE.equals(assumptions.get(dep)) && view.dependency(tx, dep).state() != State.SUCCEEDED) {
        addSteps(tx, spec, view.batch(tx, dep));
      }
    }
    addSteps(tx, spec, batch);
    return jobs.enqueue(tx, JobSpec.builder(JobKind.BUILD).executionClass("build")
        .payload(ProtoJson.toBytes(spec.build())).maxAttempts(3).build()).jobId();
  }

  private static void addSteps(Tx tx, BuildSpec.Builder spec, BatchRecord b) throws SQLException {
    for (String requestId : b.requestIds()) {
      RequestRecord r = Requests.get(tx, requestId);
      spec.addSteps(MergeStep.newBuilder().setStepId(requestId).setChange(r.change()).setStrategy(r.strategy()));
    }
  }
}
