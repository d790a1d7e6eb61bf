package dev.conveyor.runway.merge;

import java.io.IOException;
import java.util.HashMap;
import java.util.HashSet;
import java.util.Map;
import java.util.Set;
import org.eclipse.jgit.diff.PatchIdDiffFormatter;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;

/**
 * Patch ids (as {@code git patch-id} computes them) of the commits that reached the target after a
 * change branched off it. A change commit whose patch is among them is already present, which is
 * how a redelivered merge whose cherry-picks already landed is recognised without a second commit.
 */
final class UpstreamPatches {
  /** Further back than this a change is not looked for; applying it again would then conflict or be empty. */
  static final int MAX_UPSTREAM_COMMITS = 1_000;

  private final Repository repo;
  private final ObjectReader reader;
  private final Map<ObjectId, ObjectId> patchIdOfCommit = new HashMap<>();

  UpstreamPatches(Repository repo, ObjectReader reader) {
    this.repo = repo;
    this.reader = reader;
  }

  /** Patch ids of the non-merge commits reachable from {@code tip} but not from {@code head}. */
  Set<ObjectId> since(AnyObjectId head, AnyObjectId tip) throws IOException {
    Set<ObjectId> ids = new HashSet<>();
    try (RevWalk walk = new RevWalk(reader)) {
      walk.markStart(walk.parseCommit(tip));
      walk.markUninteresting(walk.parseCommit(head));
      int seen = 0;
      for (RevCommit c : walk) {
        if (++seen > MAX_UPSTREAM_COMMITS) {
          break;
        }
        if (c.getParentCount() == 1) {
          ObjectId known = patchIdOfCommit.get(c);
          if (known == null) {
            known = patchId(walk.parseCommit(c.getParent(0)).getTree(), c.getTree());
            patchIdOfCommit.put(c.copy(), known);
          }
          ids.add(known);
        }
      }
    }
    return ids;
  }

  ObjectId patchId(AnyObjectId oldTree, AnyObjectId newTree) throws IOException {
    try (PatchIdDiffFormatter formatter = new PatchIdDiffFormatter()) {
      formatter.setReader(reader, repo.getConfig());
      formatter.format(oldTree, newTree);
      formatter.flush();
      return formatter.getCalulatedPatchId();
    }
  }
}
