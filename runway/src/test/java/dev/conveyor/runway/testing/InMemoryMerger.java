package dev.conveyor.runway.testing;

import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.merge.MergeOutcome;
import dev.conveyor.runway.merge.MergePlan;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.runway.merge.MergeRejection;
import dev.conveyor.runway.queue.QueueConfig;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.SortedMap;
import java.util.TreeMap;
import java.util.TreeSet;
import org.eclipse.jgit.lib.ObjectId;

/**
 * The {@link Merger} port without git, for fast tests of what sits above it. A queue's target is a map
 * of path to content; a change is the contents it gives some paths, and remembers what those paths held
 * where it branched off. Applying a change whose paths changed since then is a conflict, as a three-way
 * merge of the same edits would be. Trees and tips are content hashes, so equal trees have equal ids.
 */
public final class InMemoryMerger implements Merger {
  /** A change: the paths it sets (content null: deleted) and what they held on the target it branched from. */
  private record Change(Map<String, String> base, Map<String, String> edits) {}

  private final Map<String, SortedMap<String, String>> targets = new HashMap<>();
  private final Map<ObjectId, Change> changes = new HashMap<>();
  private final Map<ObjectId, SortedMap<String, String>> trees = new HashMap<>();
  private int merges;
  private final Map<String, ObjectId> staged = new TreeMap<>();

  /** Sets {@code path} to {@code content} on the queue's target directly (someone pushed). */
  public synchronized void commitToTarget(QueueConfig queue, String path, String content) {
    target(queue).put(path, content);
  }

  /** A change branched off the target's current tip that sets {@code edits} (a null content deletes). */
  public synchronized ChangeUri change(QueueConfig queue, String branch, Map<String, String> edits) {
    Map<String, String> base = new HashMap<>();
    SortedMap<String, String> tree = target(queue);
    edits.keySet().forEach(p -> base.put(p, tree.get(p)));
    ObjectId sha = hash("change\n" + branch + "\n" + new TreeMap<>(edits) + "\n" + new TreeMap<>(base));
    changes.put(sha, new Change(base, new LinkedHashMap<>(edits)));
    return new ChangeUri(QueueConfig.ORIGIN, "refs/heads/" + branch, sha);
  }

  /** Every in-memory change is one commit. */
  @Override
  public List<Integer> commitsAhead(QueueConfig queue, List<ChangeUri> changes) {
    return changes.stream().map(c -> 1).toList();
  }

  /** The staging refs pushed and not yet removed, with the commit each points at. */
  public synchronized Map<String, ObjectId> staged() {
    return new TreeMap<>(staged);
  }

  @Override
  public synchronized void stage(QueueConfig queue, ObjectId commit, String ref) {
    staged.put(queue.name() + ":" + ref, commit);
  }

  /** Reverts are not modelled in memory: the planner's tests never ask for one. */
  @Override
  public ObjectId revert(QueueConfig queue, ObjectId before, ObjectId after, String message) {
    throw new UnsupportedOperationException("InMemoryMerger does not make reverts");
  }

  @Override
  public synchronized void unstage(QueueConfig queue, String ref, ObjectId commit) {
    staged.remove(queue.name() + ":" + ref, commit);
  }

  /** The target's files now. */
  public synchronized SortedMap<String, String> files(QueueConfig queue) {
    return new TreeMap<>(target(queue));
  }

  /** The files of a tree an earlier merge or dry run answered. */
  public synchronized SortedMap<String, String> tree(ObjectId tip) {
    SortedMap<String, String> t = trees.get(tip);
    if (t == null) {
      throw new IllegalArgumentException("no tree " + tip.name());
    }
    return new TreeMap<>(t);
  }

  /** Real (not dry-run) merges that landed. */
  public synchronized int merges() {
    return merges;
  }

  @Override
  public synchronized MergeOutcome merge(MergePlan plan) {
    SortedMap<String, String> start = target(plan.queue());
    ObjectId oldTip = remember(start);
    SortedMap<String, String> tree = new TreeMap<>(start);
    List<MergeOutcome.StepOutcome> steps = new ArrayList<>();
    for (MergePlan.Step step : plan.steps()) {
      for (ChangeUri uri : step.changes()) {
        Change c = changes.get(uri.sha());
        if (c == null) {
          return new MergeOutcome.Failed(step.stepId(), "change " + uri + " does not exist", List.of());
        }
        List<String> conflicts = new ArrayList<>();
        c.edits().keySet().forEach(p -> {
          if (!Objects.equals(tree.get(p), c.base().get(p)) && !Objects.equals(tree.get(p), c.edits().get(p))) {
            conflicts.add(p);
          }
        });
        if (!conflicts.isEmpty()) {
          return new MergeOutcome.Failed(step.stepId(), "conflict in " + conflicts, conflicts);
        }
        c.edits().forEach((p, content) -> {
          if (content == null) {
            tree.remove(p);
          } else {
            tree.put(p, content);
          }
        });
      }
      steps.add(MergeOutcome.StepOutcome.none(step.stepId(), plan.dryRun() ? "would apply" : "applied"));
    }
    ObjectId newTip = remember(tree);
    boolean pushed = !plan.dryRun() && !newTip.equals(oldTip);
    if (!plan.dryRun()) {
      targets.put(plan.queue().name(), tree);
      merges++;
    }
    return new MergeOutcome.Succeeded(steps, oldTip, newTip, pushed, plan.dryRun() ? 0 : 1);
  }

  @Override
  public synchronized Set<String> changedPaths(QueueConfig queue, List<ChangeUri> uris) throws MergeRejection {
    Set<String> paths = new TreeSet<>();
    for (ChangeUri uri : uris) {
      Change c = changes.get(uri.sha());
      if (c == null) {
        throw new MergeRejection(null, "change " + uri + " does not exist");
      }
      paths.addAll(c.edits().keySet());
    }
    return paths;
  }

  @Override
  public synchronized int export(QueueConfig queue, ObjectId commit, Path dir) throws IOException {
    SortedMap<String, String> tree = tree(commit);
    Files.createDirectory(dir);
    for (var e : tree.entrySet()) {
      Path file = dir.resolve(e.getKey()).normalize();
      if (!file.startsWith(dir)) {
        throw new IOException("path escapes the tree: " + e.getKey());
      }
      Files.createDirectories(file.getParent());
      Files.writeString(file, e.getValue());
    }
    return tree.size();
  }

  @Override
  public void close() {}

  private SortedMap<String, String> target(QueueConfig queue) {
    return targets.computeIfAbsent(queue.name(), q -> new TreeMap<>());
  }

  private ObjectId remember(SortedMap<String, String> tree) {
    ObjectId id = hash("tree\n" + tree);
    trees.putIfAbsent(id, new TreeMap<>(tree));
    return id;
  }

  private static ObjectId hash(String text) {
    try {
      return ObjectId.fromRaw(MessageDigest.getInstance("SHA-1").digest(text.getBytes(StandardCharsets.UTF_8)));
    } catch (NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }
}
