package dev.conveyor.runway.merge;

import dev.conveyor.runway.merge.MergeOutcome.StepOutcome;
import dev.conveyor.runway.merge.TargetPusher.PushStatus;
import dev.conveyor.runway.queue.QueueConfig;
import java.io.IOException;
import java.time.Clock;
import java.time.Duration;
import java.time.ZoneOffset;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.locks.ReentrantLock;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Runs one merge plan: fetch the target and every change, apply every step in memory, and only
 * then push, with a compare-and-swap on the target ref. When the target moved, the steps are
 * applied again on the new tip, a bounded number of times. One queue's merges run one at a time
 * in a process; across processes the compare-and-swap keeps the target consistent.
 *
 * <p>Dry runs (conflict checks, speculative build trees) and {@link #changedPaths} push nothing, so they
 * do not wait for the queue's merges: they share only the queue's fetch rounds (fetches into the cache
 * update the same refs; callers waiting together share one round, {@link FetchGroup}), and apply their
 * steps beside a running merge. They see the target as
 * their own fetch found it, which is all a dry run promises.
 */
public final class GitMerger implements Merger {
  private static final Logger log = LoggerFactory.getLogger(GitMerger.class);
  /** Tries of a push the remote is too busy to take, and of a merge that met a local write race. */
  private static final int RETRIES = 6;

  private final RepositoryCache cache;
  private final Clock clock;
  private final PersonIdent identity;
  private final PushGate gate;
  private final TargetPusher pusher = new TargetPusher();
  private final ConcurrentHashMap<String, ReentrantLock> queueLocks = new ConcurrentHashMap<>();
  private final ConcurrentHashMap<String, FetchGroup> fetchGroups = new ConcurrentHashMap<>();
  private final MergeObserver observer;

  public GitMerger(RepositoryCache cache, Clock clock, PersonIdent identity, PushGate gate, MergeObserver observer) {
    this.cache = cache;
    this.clock = clock;
    this.identity = identity;
    this.gate = gate;
    this.observer = observer;
  }

  public GitMerger(RepositoryCache cache, Clock clock, PersonIdent identity, PushGate gate) {
    this(cache, clock, identity, gate, MergeObserver.NONE);
  }

  public GitMerger(RepositoryCache cache, Clock clock, MergeObserver observer) {
    this(cache, clock, new PersonIdent("Conveyor Runway", "runway@conveyor.invalid"), PushGate.NONE, observer);
  }

  public GitMerger(RepositoryCache cache, Clock clock) {
    this(cache, clock, MergeObserver.NONE);
  }

  /**
   * Throws {@link IOException} for infrastructure failures (unreachable remote, disk): retry later;
   * {@link GitFailures#isTransient} tells the ones that must not count against the request.
   */
  @Override
  public MergeOutcome merge(MergePlan plan) throws IOException {
    ReentrantLock lock = plan.dryRun() ? null : queueLocks.computeIfAbsent(plan.queue().name(), q -> new ReentrantLock());
    if (lock != null) {
      lock.lock();
    }
    long started = System.nanoTime();
    String outcome = "error";
    try {
      MergeOutcome result = mergeRidingOutWriteRaces(plan);
      outcome = result instanceof MergeOutcome.Failed ? "failed" : "succeeded";
      return result;
    } finally {
      if (lock != null) {
        lock.unlock();
      }
      observer.merged(plan, outcome, Duration.ofNanos(System.nanoTime() - started));
    }
  }

  /** Local write races (a loose object renamed by another writer, a held ref lock) run the merge again. */
  private MergeOutcome mergeRidingOutWriteRaces(MergePlan plan) throws IOException {
    for (int round = 1; ; round++) {
      try {
        return mergeLocked(plan);
      } catch (IOException | org.eclipse.jgit.api.errors.JGitInternalException e) {
        if (!GitFailures.isWriteRace(e) || round >= RETRIES) {
          throw e;
        }
        log.info("queue {}: write race in the cache ({}); merging request {} again", plan.queue().name(),
            e.getMessage(), plan.requestId());
        pause(round);
      }
    }
  }

  /**
   * One push attempt of the merge, retried with backoff while the remote is only busy (its ref lock
   * held, "failed to lock") or the connection drops. Still busy after {@value #RETRIES} tries, it
   * throws a {@link GitFailures.TransientGitException}: the request is retried later, never failed.
   */
  private PushStatus pushPatiently(Repository repo, QueueConfig queue, ObjectId tip, ObjectId newTip, int attempt)
      throws IOException {
    for (int round = 1; ; round++) {
      gate.beforePush(queue, tip, newTip, attempt);
      String busy;
      IOException failure = null;
      try {
        PushStatus status = pusher.push(repo, queue.origin(), queue.auth(), queue.targetRef(), tip, newTip);
        if (!(status instanceof PushStatus.Refused refused) || !GitFailures.isTransientRefusal(refused.detail())) {
          return status;
        }
        busy = refused.detail();
      } catch (IOException e) {
        if (!GitFailures.isTransient(e)) {
          throw e;
        }
        busy = e.getMessage();
        failure = e;
      }
      if (round >= RETRIES) {
        throw new GitFailures.TransientGitException(queue.origin() + " did not take the update of " + queue.branch()
            + " in " + round + " tries, for a transient reason: " + busy, failure);
      }
      log.info("queue {}: push of {} not taken for now ({}); retrying", queue.name(), queue.branch(), busy);
      pause(round);
    }
  }

  private static void pause(int round) throws IOException {
    long capMs = Math.min(2_000, 100L << Math.min(10, round - 1));
    try {
      Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(capMs / 2, capMs + 1));
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new java.io.InterruptedIOException("interrupted while waiting to retry");
    }
  }

  private MergeOutcome mergeLocked(MergePlan plan) throws IOException {
    QueueConfig queue = plan.queue();
    Repository repo = cache.repository(queue);
    try (ObjectInserter inserter = repo.newObjectInserter();
        RevWalk walk = new RevWalk(inserter.newReader())) {
      RepositoryCache.Fetched fetched;
      try {
        fetched = fetch(repo, walk, queue, plan.allChanges());
      } catch (MergeRejection r) {
        return MergeOutcome.Failed.of(r);
      }
      ObjectId tip = fetched.tip();
      String moved = "";
      for (int attempt = 1; ; attempt++) {
        StepApplier applier = new StepApplier(repo, inserter, walk, mergeIdentity(), queue.branch(),
            walk.parseCommit(tip));
        List<StepOutcome> steps = new ArrayList<>();
        try {
          for (MergePlan.Step step : plan.steps()) {
            steps.add(applier.apply(step, fetched.heads()));
          }
        } catch (MergeRejection r) {
          return new MergeOutcome.Failed(r.stepId(), moved + r.describe(), r.paths());
        }
        ObjectId newTip = applier.tip().copy();
        if (plan.dryRun()) {
          return new MergeOutcome.Succeeded(withoutOutputs(steps), tip, newTip, false, 0);
        }
        if (newTip.equals(tip)) {
          return new MergeOutcome.Succeeded(steps, tip, newTip, false, attempt - 1);
        }
        inserter.flush();
        PushStatus status = pushPatiently(repo, queue, tip, newTip, attempt);
        if (status instanceof PushStatus.Pushed) {
          return new MergeOutcome.Succeeded(steps, tip, newTip, true, attempt);
        }
        if (status instanceof PushStatus.Refused refused) {
          return new MergeOutcome.Failed(null, queue.origin() + " refused the update of " + queue.branch() + " ("
              + refused.detail() + ")", List.of());
        }
        ObjectId newer;
        try {
          newer = fetchTarget(repo, queue);
        } catch (MergeRejection r) {
          return MergeOutcome.Failed.of(r);
        }
        log.info("queue {}: {} moved from {} to {} before push attempt {} of request {}", queue.name(),
            queue.branch(), tip.name(), newer.name(), attempt, plan.requestId());
        if (attempt >= queue.pushAttempts()) {
          return new MergeOutcome.Failed(null, queue.branch() + " moved during each of " + attempt
              + " push attempts (last seen at " + newer.name() + "); nothing was pushed", List.of());
        }
        moved = queue.branch() + " moved from " + tip.abbreviate(12).name() + " to " + newer.abbreviate(12).name()
            + " before the push, and the steps no longer apply: ";
        tip = newer;
      }
    }
  }

  /**
   * The paths the changes touch relative to where each branched off the target (for conflict
   * analysis). Fetches like a merge does; rejects the same bad changes.
   */
  @Override
  public java.util.Set<String> changedPaths(QueueConfig queue, List<dev.conveyor.runway.change.ChangeUri> changes)
      throws IOException, MergeRejection {
    Repository repo = cache.repository(queue);
    try (RevWalk walk = new RevWalk(repo)) {
      RepositoryCache.Fetched fetched = fetch(repo, walk, queue, changes);
      java.util.Set<String> paths = new java.util.TreeSet<>();
      for (var head : fetched.heads().values()) {
        paths.addAll(TreeExport.changedSince(walk.getObjectReader(), walk, walk.parseCommit(fetched.tip()), head));
      }
      return paths;
    }
  }

  @Override
  public List<Integer> commitsAhead(QueueConfig queue, List<dev.conveyor.runway.change.ChangeUri> changes)
      throws IOException, MergeRejection {
    Repository repo = cache.repository(queue);
    try (RevWalk walk = new RevWalk(repo)) {
      RepositoryCache.Fetched fetched = fetch(repo, walk, queue, changes);
      List<Integer> counts = new ArrayList<>();
      for (var change : changes) {
        walk.reset();
        walk.markStart(walk.parseCommit(fetched.heads().get(change)));
        walk.markUninteresting(walk.parseCommit(fetched.tip()));
        int n = 0;
        for (var ignored : walk) {
          n++;
        }
        counts.add(n);
      }
      return counts;
    }
  }

  FetchGroup fetchGroupOf(QueueConfig queue) {
    return fetchGroups.computeIfAbsent(queue.name(), q -> new FetchGroup());
  }

  /** Fetches with whatever other fetches of the queue are waiting ({@link FetchGroup}), then checks its own changes. */
  private RepositoryCache.Fetched fetch(Repository repo, RevWalk walk, QueueConfig queue,
      List<dev.conveyor.runway.change.ChangeUri> changes) throws IOException, MergeRejection {
    return cache.resolve(walk, queue, changes, fetchGroupOf(queue).fetch(cache, repo, queue, changes));
  }

  private ObjectId fetchTarget(Repository repo, QueueConfig queue) throws IOException, MergeRejection {
    ReentrantLock lock = fetchGroupOf(queue).exclusive();
    lock.lock();
    try {
      return cache.fetchTarget(repo, queue);
    } finally {
      lock.unlock();
    }
  }

  /** Fetch rounds run for {@code queue}, and the fetches they served. */
  public long[] fetchCounts(String queue) {
    FetchGroup g = fetchGroups.get(queue);
    return g == null ? new long[2] : g.counts();
  }

  /**
   * Writes the files of {@code commit} (for example a dry run's new tip) into {@code dir}, which must
   * not exist yet; answers the file count. Never writes through a link; refuses a tree with entries
   * that could escape or alias ({@link UnsafeTreeException}, the same on every attempt).
   */
  @Override
  public int export(QueueConfig queue, ObjectId commit, java.nio.file.Path dir) throws IOException, UnsafeTreeException {
    Repository repo = cache.repository(queue);
    try (var reader = repo.newObjectReader()) {
      return TreeExport.export(reader, commit, dir);
    }
  }

  @Override
  public void stage(QueueConfig queue, ObjectId commit, String ref) throws IOException {
    StagingRefs.push(cache.repository(queue), queue, commit, ref);
  }

  @Override
  public ObjectId revert(QueueConfig queue, ObjectId before, ObjectId after, String message)
      throws IOException, MergeRejection {
    Repository repo = cache.repository(queue);
    try (ObjectInserter inserter = repo.newObjectInserter(); RevWalk walk = new RevWalk(inserter.newReader())) {
      RevCommit tip = walk.parseCommit(fetchTarget(repo, queue));
      RevCommit last;
      RevCommit base;
      try {
        last = walk.parseCommit(after);
        base = walk.parseCommit(before);
      } catch (org.eclipse.jgit.errors.MissingObjectException e) {
        throw new MergeRejection(null, e.getObjectId().name() + " is not in " + queue.branch() + "'s history here");
      }
      if (!walk.isMergedInto(last, tip)) {
        throw new MergeRejection(null, after.name() + " is not on " + queue.branch() + " any more");
      }
      if (!walk.isMergedInto(base, last)) {
        throw new MergeRejection(null, before.name() + " does not come before " + after.name());
      }
      // a three-way merge whose base is the change's tip and whose other side is the commit before it:
      // what the change did, undone on top of whatever landed since
      var merger = (org.eclipse.jgit.merge.ResolveMerger) org.eclipse.jgit.merge.MergeStrategy.RECURSIVE
          .newMerger(inserter, repo.getConfig());
      merger.setBase(last.getTree());
      if (!merger.merge(tip.getTree(), base.getTree())) {
        throw new MergeRejection(null, "the revert does not apply cleanly on " + queue.branch() + " at "
            + tip.abbreviate(12).name() + " (changed since: " + String.join(", ", merger.getUnmergedPaths()) + ")",
            merger.getUnmergedPaths());
      }
      if (merger.getResultTreeId().equals(tip.getTree())) {
        throw new MergeRejection(null, "reverting changes nothing on " + queue.branch() + " at "
            + tip.abbreviate(12).name() + ": what it would take back is already gone (reverted already?)");
      }
      org.eclipse.jgit.lib.CommitBuilder commit = new org.eclipse.jgit.lib.CommitBuilder();
      commit.setTreeId(merger.getResultTreeId());
      commit.setParentId(tip);
      commit.setAuthor(mergeIdentity());
      commit.setCommitter(mergeIdentity());
      commit.setMessage(message);
      ObjectId id = inserter.insert(commit);
      inserter.flush();
      return id;
    }
  }

  @Override
  public void unstage(QueueConfig queue, String ref, ObjectId commit) throws IOException {
    StagingRefs.remove(cache.repository(queue), queue, ref, commit);
  }

  private PersonIdent mergeIdentity() {
    return new PersonIdent(identity.getName(), identity.getEmailAddress(), clock.instant(), ZoneOffset.UTC);
  }

  private static List<StepOutcome> withoutOutputs(List<StepOutcome> steps) {
    return steps.stream().map(s -> StepOutcome.none(s.stepId(), s.outputs().isEmpty() ? s.note() : "would apply"))
        .toList();
  }

  @Override
  public void close() {
    cache.close();
  }
}
