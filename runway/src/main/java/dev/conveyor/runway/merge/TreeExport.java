package dev.conveyor.runway.merge;

import java.io.IOException;
import java.io.OutputStream;
import java.nio.channels.Channels;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.nio.file.attribute.BasicFileAttributes;
import java.nio.file.attribute.FileAttribute;
import java.nio.file.attribute.PosixFilePermission;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Deque;
import java.util.HashMap;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import org.eclipse.jgit.lib.AnyObjectId;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectReader;
import org.eclipse.jgit.treewalk.CanonicalTreeParser;
import org.eclipse.jgit.util.RawParseUtils;
import org.eclipse.jgit.revwalk.RevCommit;
import org.eclipse.jgit.revwalk.RevWalk;
import org.eclipse.jgit.revwalk.filter.RevFilter;
import org.eclipse.jgit.treewalk.EmptyTreeIterator;
import org.eclipse.jgit.treewalk.TreeWalk;
import org.eclipse.jgit.treewalk.filter.TreeFilter;

/** Reads trees out of a cache repository: a commit's files into a directory, the paths a change touches. */
final class TreeExport {
  /** Deeper trees or longer paths are refused rather than left to fail as I/O errors (and retried). */
  static final int MAX_DEPTH = 256;
  static final int MAX_PATH_BYTES = 3_072;
  private static final FileAttribute<Set<PosixFilePermission>> DIRECTORY =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x"));
  private static final FileAttribute<Set<PosixFilePermission>> FILE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rw-r--r--"));
  private static final FileAttribute<Set<PosixFilePermission>> EXECUTABLE =
      PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x"));

  private TreeExport() {}

  /**
   * Writes every file of {@code commit} into {@code dir}, which must not exist yet (no .git): what a
   * build runs in. Nothing is ever written through a symbolic link: each directory and file is
   * created new, without following links, inside a directory this export created. Entries that
   * could escape or alias (".", "..", ".git", a '/' or NUL in a name, duplicate or case-colliding
   * names) are refused before anything of their directory is written.
   */
  static int export(ObjectReader reader, AnyObjectId commit, Path dir) throws IOException, UnsafeTreeException {
    Path root = dir.toAbsolutePath().normalize();
    Files.createDirectories(root.getParent());
    Files.createDirectory(root, DIRECTORY); // fails if anything, even a dangling link, is already there
    int files = 0;
    record Pending(ObjectId tree, Path dir, String path, int depth) {}
    Deque<Pending> pending = new ArrayDeque<>();
    try (RevWalk walk = new RevWalk(reader)) {
      pending.push(new Pending(walk.parseCommit(commit).getTree().copy(), root, "", 0));
    }
    while (!pending.isEmpty()) {
      Pending p = pending.pop();
      requireRealDirectory(p.dir(), root, p.path());
      for (Entry e : entries(reader, p.tree(), p.path())) {
        String path = p.path().isEmpty() ? e.name() : p.path() + "/" + e.name();
        if (path.getBytes(StandardCharsets.UTF_8).length > MAX_PATH_BYTES) {
          throw new UnsafeTreeException("path '" + abbreviate(path) + "' is longer than " + MAX_PATH_BYTES + " bytes");
        }
        Path target = p.dir().resolve(e.name());
        if (!target.getParent().equals(p.dir())) {
          throw new UnsafeTreeException("entry '" + path + "' escapes its directory");
        }
        FileMode mode = e.mode();
        if (mode == FileMode.TREE) {
          if (p.depth() + 1 > MAX_DEPTH) {
            throw new UnsafeTreeException("'" + abbreviate(path) + "' is nested deeper than " + MAX_DEPTH + " levels");
          }
          Files.createDirectory(target, DIRECTORY);
          pending.push(new Pending(e.id(), target, path, p.depth() + 1));
        } else if (mode == FileMode.SYMLINK) {
          Files.createSymbolicLink(target, linkTarget(reader, e.id(), path)); // the link itself; never followed
          files++;
        } else if (mode == FileMode.REGULAR_FILE || mode == FileMode.EXECUTABLE_FILE) {
          try (OutputStream out = Channels.newOutputStream(Files.newByteChannel(target, Set.of(
              StandardOpenOption.CREATE_NEW, StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS),
              mode == FileMode.EXECUTABLE_FILE ? EXECUTABLE : FILE))) {
            reader.open(e.id(), Constants.OBJ_BLOB).copyTo(out);
          }
          files++;
        } else if (mode != FileMode.GITLINK) { // submodules are not checked out
          throw new UnsafeTreeException("entry '" + path + "' has an unknown mode " + mode);
        }
      }
    }
    return files;
  }

  private record Entry(String name, FileMode mode, ObjectId id) {}

  /** A tree's entries, refused as a whole if any name is unsafe or two names collide (also ignoring case). */
  private static List<Entry> entries(ObjectReader reader, ObjectId tree, String path)
      throws IOException, UnsafeTreeException {
    List<Entry> out = new ArrayList<>();
    Map<String, String> seen = new HashMap<>();
    CanonicalTreeParser parser = new CanonicalTreeParser(null, reader, tree);
    for (; !parser.eof(); parser.next()) {
      byte[] raw = java.util.Arrays.copyOf(parser.getEntryPathBuffer(), parser.getEntryPathLength());
      String name = RawParseUtils.decode(raw);
      String where = path.isEmpty() ? "the root" : "'" + path + "'";
      String unsafe = unsafeName(raw, name);
      if (unsafe != null) {
        throw new UnsafeTreeException("tree " + tree.name() + " (" + where + ") has an entry " + unsafe);
      }
      String folded = name.toLowerCase(Locale.ROOT);
      String other = seen.put(folded, name);
      if (other != null) {
        throw new UnsafeTreeException("tree " + tree.name() + " (" + where + ") has " + (other.equals(name)
            ? "a duplicate entry '" + name + "'" : "case-colliding entries '" + other + "' and '" + name + "'"));
      }
      out.add(new Entry(name, parser.getEntryFileMode(), parser.getEntryObjectId()));
    }
    return out;
  }

  /** Why a name must not be written, or null when it is an ordinary file name. */
  private static String unsafeName(byte[] raw, String name) {
    if (raw.length == 0) {
      return "with an empty name";
    }
    if (raw.length > 255) {
      return "with a name longer than 255 bytes";
    }
    for (byte b : raw) {
      if (b == '/' || b == 0) {
        return "named '" + name.replaceAll("\\p{Cntrl}", "?") + "' (a '/' or NUL in a name)";
      }
    }
    if (name.equals(".") || name.equals("..")) {
      return "named '" + name + "'";
    }
    // ".git" in any case, and the spellings some file systems treat as it (".git.", ".git ", "git~1")
    String bare = name.toLowerCase(Locale.ROOT).replaceAll("[. ]+$", "");
    if (bare.equals(".git") || bare.equals("git~1")) {
      return "named '" + name + "' (a .git path component)";
    }
    return null;
  }

  private static Path linkTarget(ObjectReader reader, ObjectId blob, String path)
      throws IOException, UnsafeTreeException {
    try {
      byte[] bytes = reader.open(blob, Constants.OBJ_BLOB).getCachedBytes(4_095);
      return Path.of(new String(bytes, StandardCharsets.UTF_8));
    } catch (org.eclipse.jgit.errors.LargeObjectException e) {
      throw new UnsafeTreeException("symbolic link '" + path + "' has a target longer than 4095 bytes");
    } catch (java.nio.file.InvalidPathException e) {
      throw new UnsafeTreeException("symbolic link '" + path + "' has an invalid target: " + e.getMessage());
    }
  }

  /** Every directory written into is one this export created: a real directory under the root, not a link. */
  private static void requireRealDirectory(Path dir, Path root, String path) throws IOException, UnsafeTreeException {
    if (!dir.startsWith(root) || !Files.readAttributes(dir, BasicFileAttributes.class, LinkOption.NOFOLLOW_LINKS)
        .isDirectory()) {
      throw new UnsafeTreeException("'" + path + "' is not a real directory inside the build directory");
    }
  }

  private static String abbreviate(String path) {
    return path.length() <= 120 ? path : path.substring(0, 120) + "…";
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
