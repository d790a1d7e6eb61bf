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
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;

/**
 * One planning pass over a queue's active batches, in one transaction. For each speculating batch:
 * paths refuted by a dependency's real outcome lose their builds; with every dependency resolved, a
 * passed build on the real outcomes sends the batch to merge and a failed one fails it; otherwise
 * the unbuilt paths become candidates. Candidates of the whole queue are then built best-first
 * (most probable path, then oldest batch) within the queue's build budget.
 */
public final class SpeculationPlanner {
  /** Beyond this many unresolved dependencies only "all land" and single failures are considered. */
  static final int FULL_ENUMERATION_LIMIT = 8;

  private final LeasedJobs jobs;
  private final Signals signals;
  private final java.util.concurrent.atomic.AtomicLong bisections = new java.util.concurrent.atomic.AtomicLong();

  public SpeculationPlanner(LeasedJobs jobs, Signals signals) {
    this.jobs = jobs;
    this.signals = signals;
  }

  private record Candidate(BatchRecord batch, Map<String, Boolean> assumptions, double probability, int priority) {}

  public void pass(Tx tx, SubmitQueueConfig queue) throws SQLException {
    // a paused queue records what its builds found, but starts no build and no merge until resumed
    boolean paused = QueueStates.get(tx, queue.name()).paused();
    List<Candidate> candidates = new ArrayList<>();
    for (String id : Batches.active(tx, queue.name())) {
      BatchRecord b = Batches.get(tx, id);
      if (BatchStage.filling(queue, b, tx.nowMillis())) {
        continue; // it may still take members; its batch-wait wake-up, or a newer batch, plans it
      }
      if (b.state() == State.CREATED) {
        if (!Batches.transition(tx, b, State.SPECULATING, null)) { // a filling batch's reason goes with it
          // a member joined since this pass read the batch: plan again from the start
          throw new dev.conveyor.ledger.OptimisticConflictException("batch " + id + " changed while planning");
        }
        b = Batches.get(tx, id);
      }
      if (b.state() == State.SPECULATING) {
        plan(tx, queue, b, candidates, paused);
      }
    }
    if (paused) {
      return;
    }
    // a higher priority first, then the likeliest path, then the oldest batch
    candidates.sort(Comparator.comparingInt(Candidate::priority).reversed()
        .thenComparing(Comparator.comparingDouble(Candidate::probability).reversed())
        .thenComparingLong(c -> c.batch().createdN()));
    long slots = queue.buildBudget() - Paths.building(tx, queue.name());
    for (Candidate c : candidates) {
      if (slots-- <= 0) {
        break;
      }
      startBuild(tx, queue, c);
    }
  }

  private void plan(Tx tx, SubmitQueueConfig queue, BatchRecord b, List<Candidate> candidates, boolean paused)
      throws SQLException {
    while (Batches.followSplits(tx, b)) {
      b = Batches.get(tx, b.batchId()); // made while a batch it follows was split: it follows the parts now
    }
    Map<String, Boolean> outcomes = new TreeMap<>();
    List<String> unresolved = new ArrayList<>();
    Map<String, Double> chance = new HashMap<>();
    for (String dep : b.dependsOn()) {
      BatchRecord d = Batches.get(tx, dep);
      if (d.state() == State.SPLIT) { // split after followSplits read it: not an outcome; plan again
        throw new dev.conveyor.ledger.OptimisticConflictException("dependency " + dep + " was split while planning");
      }
      if (d.terminal()) {
        outcomes.put(dep, d.state() == State.SUCCEEDED);
      } else {
        unresolved.add(dep);
        chance.put(dep, Math.pow(queue.successPrior(), d.requestIds().size()));
      }
    }
    List<PathRecord> paths = new ArrayList<>();
    for (PathRecord p : Paths.forBatch(tx, b.batchId())) {
      paths.add(reconcileWithJob(tx, p));
    }
    for (PathRecord p : paths) {
      if (p.state() == PathRecord.PathState.BUILDING && p.refutedBy(outcomes)) {
        cancelBuild(tx, p, "refuted: a dependency's real outcome contradicts this path (" + p.describe() + ")");
      } else if (p.state() == PathRecord.PathState.BUILDING && !p.assumptions().keySet().equals(Set.copyOf(
          b.dependsOn()))) {
        cancelBuild(tx, p, "its dependencies changed: a batch it assumed was split (" + p.describe() + ")");
      }
    }
    if (unresolved.isEmpty()) {
      Optional<PathRecord> real = paths.stream().filter(p -> p.assumptions().equals(outcomes)
          && p.state() != PathRecord.PathState.CANCELLED).findFirst();
      if (real.isEmpty()) {
        candidates.add(new Candidate(b, outcomes, 1.0, Batches.priority(tx, b.batchId())));
      } else if (real.get().state() == PathRecord.PathState.PASSED) {
        if (!paused && Batches.transition(tx, b, State.MERGING, null)) {
          cancelOthers(tx, paths, real.get(), "the batch is merging on another path");
          signals.batch(tx, SubmitQueueTopics.MERGE, b.queue(), b.batchId(), "merge");
        }
      } else if (real.get().state() == PathRecord.PathState.FAILED && b.requestIds().size() > 1) {
        bisect(tx, b, paths, real.get());
      } else if (real.get().state() == PathRecord.PathState.FAILED) {
        if (Batches.transition(tx, b, State.FAILED, "build failed (" + real.get().describe() + "): "
            + real.get().reason())) {
          cancelOthers(tx, paths, real.get(), "the batch failed");
          signals.batch(tx, SubmitQueueTopics.CONCLUDE, b.queue(), b.batchId(), "build-failed");
        }
      }
      return;
    }
    int priority = Batches.priority(tx, b.batchId());
    for (Map<String, Boolean> guess : assignments(unresolved)) {
      Map<String, Boolean> full = new TreeMap<>(outcomes);
      full.putAll(guess);
      if (paths.stream().noneMatch(p -> p.assumptions().equals(full))) {
        double probability = 1.0;
        for (String dep : unresolved) {
          probability *= guess.get(dep) ? chance.get(dep) : 1 - chance.get(dep);
        }
        candidates.add(new Candidate(b, full, probability, priority));
      }
    }
  }

  /**
   * A batch of several requests failed on its real dependencies: it is split in halves, the second
   * depending on the first (built assuming the first lands, as it would have in the batch), and each is
   * planned like any batch, so halves are built side by side within the budget and split again until the
   * requests that fail are alone (those end ERROR with their own build's reason) while every other lands.
   * Nobody is charged for the split: a request's history shows BATCHED once.
   */
  private void bisect(Tx tx, BatchRecord b, List<PathRecord> paths, PathRecord failed) throws SQLException {
    List<String> members = b.requestIds();
    int half = members.size() / 2;
    String why = "split in two after its build failed (" + failed.describe() + "): " + failed.reason();
    cancelOthers(tx, paths, failed, "the batch is being split");
    List<String> halves = Batches.split(tx, b, List.of(members.subList(0, half), members.subList(half, members.size())),
        true, why);
    bisections.incrementAndGet();
    signals.batch(tx, SubmitQueueTopics.SPECULATE, b.queue(), halves.get(0), "split");
  }

  /** Batches split after a failed build (counted since start). */
  public long bisections() {
    return bisections.get();
  }

  /** A build whose job ended without a signal (its attempts ran out) counts as failed. */
  private PathRecord reconcileWithJob(Tx tx, PathRecord p) throws SQLException {
    if (p.state() != PathRecord.PathState.BUILDING || p.jobId() == null) {
      return p;
    }
    Job job = jobs.get(tx, p.jobId());
    if (job.state() != JobState.FAILED && job.state() != JobState.CANCELLED) {
      return p;
    }
    PathRecord.PathState to = job.state() == JobState.FAILED ? PathRecord.PathState.FAILED
        : PathRecord.PathState.CANCELLED;
    String reason = "build job " + job.id() + " ended " + job.state() + ": " + job.lastError();
    Paths.finish(tx, p.pathId(), to, reason);
    return new PathRecord(p.pathId(), p.batchId(), p.assumptions(), to, p.jobId(), reason);
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

  private void startBuild(Tx tx, SubmitQueueConfig queue, Candidate c) throws SQLException {
    String pathId = PathRecord.idOf(c.batch().batchId(), c.assumptions());
    BuildSpec.Builder spec = BuildSpec.newBuilder().setQueue(queue.name()).setBatchId(c.batch().batchId())
        .setPathId(pathId).setCommand(queue.buildCommand()).setTimeoutMs(queue.buildTimeout().toMillis());
    for (String dep : c.batch().dependsOn()) {
      BatchRecord d = Batches.get(tx, dep);
      if (Boolean.TRUE.equals(c.assumptions().get(dep)) && d.state() != State.SUCCEEDED) {
        addSteps(tx, spec, d);
      }
    }
    addSteps(tx, spec, c.batch());
    String jobId = jobs.enqueue(tx, JobSpec.builder(JobKind.BUILD).executionClass("build").dedupeKey(pathId)
        .payload(ProtoJson.toBytes(spec.build())).maxAttempts(3).build()).jobId();
    Paths.insertBuilding(tx, c.batch().batchId(), c.assumptions(), jobId);
  }

  private static void addSteps(Tx tx, BuildSpec.Builder spec, BatchRecord b) throws SQLException {
    for (String requestId : b.requestIds()) {
      RequestRecord r = Requests.get(tx, requestId);
      spec.addSteps(MergeStep.newBuilder().setStepId(requestId).setChange(r.change()).setStrategy(r.strategy()));
    }
  }

  /** Every success/failure assignment of the unresolved dependencies, or the likeliest ones when there are many. */
  static List<Map<String, Boolean>> assignments(List<String> unresolved) {
    List<Map<String, Boolean>> out = new ArrayList<>();
    if (unresolved.size() <= FULL_ENUMERATION_LIMIT) {
      for (int mask = 0; mask < 1 << unresolved.size(); mask++) {
        Map<String, Boolean> m = new TreeMap<>();
        for (int i = 0; i < unresolved.size(); i++) {
          m.put(unresolved.get(i), (mask & (1 << i)) == 0);
        }
        out.add(m);
      }
      return out;
    }
    Map<String, Boolean> allLand = new TreeMap<>();
    unresolved.forEach(d -> allLand.put(d, true));
    out.add(allLand);
    for (String failing : unresolved) {
      Map<String, Boolean> m = new TreeMap<>(allLand);
      m.put(failing, false);
      out.add(m);
    }
    return out;
  }
}
