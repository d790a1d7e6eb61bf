package dev.conveyor.runway.merge;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermission;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.revwalk.filter.RevFilter;
import org.eclipse.jgit.treewalk.EmptyTreeIterator;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.TreeFilter;

/** Reads trees out of a cache repository: a commit's files into a directory, the paths a change touches. */
final class TreeExport {
  private TreeExport() {}

  /** Writes every file of {@code commit} under {@code dir} (no .git): what a build runs in. */
  static int export(ObjectReader reader, AnyObjectId commit, Path dir) throws IOException {
    Files.createDirectories(dir);
    int files = 0;
    try (RevWalk walk = new RevWalk(reader); TreeWalk tree = new TreeWalk(reader)) {
      tree.addTree(walk.parseCommit(commit).getTree());
      tree.setRecursive(true);
      while (tree.next()) {
        Path target = dir.resolve(tree.getPathString());
        if (!target.normalize().startsWith(dir.normalize())) {
          throw new IOException("refusing to write outside the build directory: " + tree.getPathString());
        }
        FileMode mode = tree.getFileMode(0);
        if (mode == FileMode.GITLINK) {
          continue;
        }
        Files.createDirectories(target.getParent());
        byte[] bytes = reader.open(tree.getObjectId(0)).getBytes();
        if (mode == FileMode.SYMLINK) {
          Files.createSymbolicLink(target, Path.of(new String(bytes, StandardCharsets.UTF_8)));
        } else {
          try (OutputStream out = Files.newOutputStream(target)) {
            out.write(bytes);
          }
          if (mode == FileMode.EXECUTABLE_FILE) {
            Set<PosixFilePermission> perms = Files.getPosixFilePermissions(target);
            perms.add(PosixFilePermission.OWNER_EXECUTE);
            perms.add(PosixFilePermission.GROUP_EXECUTE);
            Files.setPosixFilePermissions(target, perms);
          }
        }
        files++;
      }
    }
    return files;
  }

  /** Paths that {@code head} changes relative to where it branched off {@code tip}. */
  static Set<String> changedSince(ObjectReader reader, RevWalk walk, RevCommit tip, RevCommit head) throws IOException {
    walk.reset();
    walk.setRevFilter(RevFilter.MERGE_BASE);
    walk.markStart(tip);
    walk.markStart(head);
    RevCommit base = walk.next();
    walk.reset();
    walk.setRevFilter(RevFilter.ALL);
    Set<String> paths = new TreeSet<>();
    try (TreeWalk tree = new TreeWalk(reader)) {
      if (base == null) {
        tree.addTree(new EmptyTreeIterator());
      } else {
        tree.addTree(walk.parseCommit(base).getTree());
      }
      tree.addTree(head.getTree());
      tree.setRecursive(true);
      tree.setFilter(TreeFilter.ANY_DIFF);
      while (tree.next()) {
        paths.add(tree.getPathString());
      }
    }
    return paths;
  }
}
