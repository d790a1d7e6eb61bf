package dev.conveyor.runway.merge;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.merge.MergeOutcome.StepOutcome;
import java.io.IOException;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.merge.MergeStrategy;
import org.eclipse.jgit.merge.ResolveMerger;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevSort;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.revwalk.filter.RevFilter;

/**
 * Applies steps one after another onto a moving tip, entirely in memory: merges run in-core and new
 * commits go into the object database unreferenced, so nothing is visible until a push. Cherry-picked
 * and squashed commits keep their author and committer, so re-applying a change that already sits on
 * the tip yields the very same commit.
 */
final class StepApplier {
  private final Repository repo;
  private final ObjectInserter inserter;
  private final RevWalk walk;
  private final UpstreamPatches upstream;
  private final PersonIdent mergeIdentity;
  private final String branch;
  private RevCommit tip;

  StepApplier(Repository repo, ObjectInserter inserter, RevWalk walk, PersonIdent mergeIdentity, String branch,
      RevCommit tip) {
    this.repo = repo;
    this.inserter = inserter;
    this.walk = walk;
    this.upstream = new UpstreamPatches(repo, walk.getObjectReader());
    this.mergeIdentity = mergeIdentity;
    this.branch = branch;
    this.tip = tip;
  }

  RevCommit tip() {
    return tip;
  }

  StepOutcome apply(MergePlan.Step step, Map<ChangeUri, RevCommit> heads) throws IOException, MergeRejection {
    if (step.strategy() == Strategy.PROMOTE && step.changes().size() != 1) {
      throw new MergeRejection(step.stepId(), "PROMOTE fast-forwards to exactly one commit, but the change has "
          + step.changes().size() + " URIs");
    }
    List<ObjectId> outputs = new ArrayList<>();
    List<ObjectId> bases = new ArrayList<>();
    int present = 0;
    for (ChangeUri change : step.changes()) {
      RevCommit head = heads.get(change);
      RevCommit before = tip;
      if (!walk.isMergedInto(head, tip)) {
        switch (step.strategy()) {
          case REBASE -> rebase(step.stepId(), change, head);
          case SQUASH_REBASE -> squash(step.stepId(), change, head);
          case MERGE -> merge(step.stepId(), change, head);
          case PROMOTE -> promote(step.stepId(), change, head);
          default -> throw new MergeRejection(step.stepId(), "strategy " + step.strategy() + " is not supported");
        }
      }
      if (tip.equals(before)) {
        present++;
      } else {
        outputs.add(tip.copy());
        bases.add(before.copy());
      }
    }
    String note = present == 0 ? "" : present == step.changes().size() ? "already present"
        : present + " of " + step.changes().size() + " changes already present";
    return new StepOutcome(step.stepId(), outputs, bases, note);
  }

  /** Cherry-picks each commit the change has and the tip lacks, oldest first; drops those already upstream. */
  private void rebase(String stepId, ChangeUri change, RevCommit head) throws IOException, MergeRejection {
    List<RevCommit> commits = commitsMissingFromTip(head);
    Set<ObjectId> landed = null;
    for (RevCommit c : commits) {
      if (c.getParentCount() != 1) {
        throw new MergeRejection(stepId, "change " + change + " contains " + (c.getParentCount() == 0 ? "root" : "merge")
            + " commit " + c.name() + "; REBASE applies linear history only (use MERGE or SQUASH_REBASE)");
      }
      RevCommit parent = walk.parseCommit(c.getParent(0));
      if (parent.equals(tip)) {
        tip = c; // cherry-picking onto its own parent with the same identities is the commit itself
        continue;
      }
      if (landed == null) {
        landed = upstream.since(head, tip);
      }
      if (!landed.isEmpty() && landed.contains(upstream.patchId(parent.getTree(), c.getTree()))) {
        continue;
      }
      ObjectId tree = threeWay(stepId, change, parent, c, "cherry-picking " + c.abbreviate(12).name());
      if (!tree.equals(tip.getTree())) {
        tip = commit(tree, c.getAuthorIdent(), c.getCommitterIdent(), c, tip);
      }
    }
  }

  /**
   * One commit holding what the change adds and the target lacks. Leading commits whose patches
   * already landed (an earlier change of the same stack, cherry-picked) are left out of the squash.
   */
  private void squash(String stepId, ChangeUri change, RevCommit head) throws IOException, MergeRejection {
    List<RevCommit> missing = commitsMissingFromTip(head);
    Set<ObjectId> landed = upstream.since(head, tip);
    int first = 0;
    while (first < missing.size() && !landed.isEmpty() && missing.get(first).getParentCount() == 1
        && landed.contains(upstream.patchId(walk.parseCommit(missing.get(first).getParent(0)).getTree(),
            missing.get(first).getTree()))) {
      first++;
    }
    if (first == missing.size()) {
      return;
    }
    List<RevCommit> rest = missing.subList(first, missing.size());
    boolean linear = rest.stream().allMatch(c -> c.getParentCount() == 1);
    RevCommit base = linear ? walk.parseCommit(rest.get(0).getParent(0)) : mergeBase(stepId, change, head);
    if (base.equals(tip) && rest.size() == 1) {
      tip = head; // squashing one commit onto its own parent with the same identities is the commit itself
      return;
    }
    if (!landed.isEmpty() && landed.contains(upstream.patchId(base.getTree(), head.getTree()))) {
      return;
    }
    ObjectId tree = threeWay(stepId, change, base, head, "squashing " + change.shortRef());
    if (!tree.equals(tip.getTree())) {
      tip = commit(tree, head.getAuthorIdent(), head.getCommitterIdent(), head, tip);
    }
  }

  /** A merge commit even when a fast-forward were possible, so the change stays one unit in history. */
  private void merge(String stepId, ChangeUri change, RevCommit head) throws IOException, MergeRejection {
    ResolveMerger merger = newMerger();
    if (!merger.merge(tip, head)) {
      throw conflict(stepId, change, merger, "merging " + change.shortRef());
    }
    CommitBuilder cb = new CommitBuilder();
    cb.setTreeId(merger.getResultTreeId());
    cb.setParentIds(tip, head);
    cb.setAuthor(mergeIdentity);
    cb.setCommitter(mergeIdentity);
    cb.setMessage("Merge " + change.shortRef() + " (" + head.abbreviate(12).name() + ") into " + branch + "\n");
    tip = walk.parseCommit(inserter.insert(cb));
  }

  private void promote(String stepId, ChangeUri change, RevCommit head) throws IOException, MergeRejection {
    if (!walk.isMergedInto(tip, head)) {
      throw new MergeRejection(stepId, "PROMOTE needs a fast-forward, but " + change + " does not contain the tip of "
          + branch + " (" + tip.name() + ")");
    }
    tip = head;
  }

  private List<RevCommit> commitsMissingFromTip(RevCommit head) throws IOException {
    walk.reset();
    walk.setRevFilter(RevFilter.ALL);
    walk.sort(RevSort.TOPO, true);
    walk.sort(RevSort.REVERSE, true);
    walk.markStart(head);
    walk.markUninteresting(tip);
    List<RevCommit> commits = new ArrayList<>();
    for (RevCommit c : walk) {
      commits.add(c);
    }
    walk.reset();
    walk.sort(RevSort.NONE);
    return commits;
  }

  private RevCommit mergeBase(String stepId, ChangeUri change, RevCommit head) throws IOException, MergeRejection {
    walk.reset();
    walk.setRevFilter(RevFilter.MERGE_BASE);
    walk.markStart(tip);
    walk.markStart(head);
    RevCommit base = walk.next();
    walk.reset();
    walk.setRevFilter(RevFilter.ALL);
    if (base == null) {
      throw new MergeRejection(stepId, "change " + change + " shares no history with " + branch);
    }
    return walk.parseCommit(base);
  }

  private ObjectId threeWay(String stepId, ChangeUri change, RevCommit base, RevCommit theirs, String doing)
      throws IOException, MergeRejection {
    ResolveMerger merger = newMerger();
    merger.setBase(base.getTree());
    if (!merger.merge(tip, theirs)) {
      throw conflict(stepId, change, merger, doing);
    }
    return merger.getResultTreeId();
  }

  private ResolveMerger newMerger() {
    return (ResolveMerger) MergeStrategy.RECURSIVE.newMerger(inserter, repo.getConfig());
  }

  private MergeRejection conflict(String stepId, ChangeUri change, ResolveMerger merger, String doing) {
    List<String> paths = new ArrayList<>(merger.getUnmergedPaths());
    if (merger.getFailingPaths() != null) {
      paths.addAll(merger.getFailingPaths().keySet());
    }
    return new MergeRejection(stepId, "conflict " + doing + " of " + change + " onto " + branch + " at "
        + tip.abbreviate(12).name(), paths.stream().distinct().sorted().toList());
  }

  private RevCommit commit(ObjectId tree, PersonIdent author, PersonIdent committer, RevCommit source,
      RevCommit parent) throws IOException {
    CommitBuilder cb = new CommitBuilder();
    cb.setTreeId(tree);
    cb.setParentId(parent);
    cb.setAuthor(author);
    cb.setCommitter(committer);
    cb.setEncoding(source.getEncoding());
    cb.setMessage(source.getFullMessage());
    return walk.parseCommit(inserter.insert(cb));
  }
}
