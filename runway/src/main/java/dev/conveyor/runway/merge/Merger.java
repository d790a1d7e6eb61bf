package dev.conveyor.runway.merge;

import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.queue.QueueConfig;
import java.io.IOException;
import java.nio.file.Path;
import java.util.List;
import java.util.Set;
import org.eclipse.jgit.lib.ObjectId;

/**
 * The git side of the merge queue, as narrow as its callers need: which paths changes touch (conflict
 * analysis), the tree a list of steps would give (a dry run, for checks and speculative builds), the
 * merge itself, and a tree's files for a build. {@link GitMerger} is the implementation; tests of the
 * planning stages use an in-memory one.
 */
public interface Merger extends AutoCloseable {

  /**
   * Runs {@code plan}: a dry run only answers what the merge would give; a real one pushes. Infrastructure
   * failures are thrown ({@link GitFailures#isTransient} tells which must not count against a request);
   * what is wrong with the changes themselves is a {@link MergeOutcome.Failed}.
   */
  MergeOutcome merge(MergePlan plan) throws IOException;

  /** The paths the changes touch relative to where each branched off the target. */
  Set<String> changedPaths(QueueConfig queue, List<ChangeUri> changes) throws IOException, MergeRejection;

  /** For each change, how many of its commits the target does not have yet (fetching like a dry run). */
  List<Integer> commitsAhead(QueueConfig queue, List<ChangeUri> changes) throws IOException, MergeRejection;

  /**
   * Writes the files of {@code commit} (a dry run's new tip) into {@code dir}, which must not exist yet;
   * answers the file count. Refuses a tree with entries that could escape or alias.
   */
  int export(QueueConfig queue, ObjectId commit, Path dir) throws IOException, UnsafeTreeException;

  /**
   * Points {@code ref} on the queue's remote at {@code commit} (a dry run's new tip), whatever it held
   * before: the tree an external CI builds. Infrastructure failures are thrown, as for a merge.
   */
  void stage(QueueConfig queue, ObjectId commit, String ref) throws IOException;

  /**
   * A commit on the target's current tip that takes back what the target's first-parent commits after
   * {@code before} up to {@code after} changed (a landed request's own commits), with {@code message}. Made
   * in the cache, not pushed ({@link #stage} pushes it). A revert that does not apply cleanly on the current
   * tip, or a range that is not on the target, is a {@link MergeRejection} naming why.
   */
  ObjectId revert(QueueConfig queue, ObjectId before, ObjectId after, String message) throws IOException, MergeRejection;

  /**
   * Removes {@code ref} from the queue's remote while it still points at {@code commit}: nothing when it is
   * gone, or when a later build of the same path has staged another commit there since.
   */
  void unstage(QueueConfig queue, String ref, ObjectId commit) throws IOException;

  @Override
  void close();
}
