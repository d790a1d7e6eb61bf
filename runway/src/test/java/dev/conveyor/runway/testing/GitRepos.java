package dev.conveyor.runway.testing;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Map;

/**
 * A bare "origin" repository with a {@code main} branch and a work clone to author changes in,
 * all in a temporary directory. Ref updates of origin are logged, so a test can count them.
 */
public final class GitRepos {
  private final Path root;
  private final Path origin;
  private final Path work;

  private GitRepos(Path root) {
    this.root = root;
    this.origin = root.resolve("origin.git");
    this.work = root.resolve("work");
  }

  /** Origin with {@code files} committed on {@code main}. */
  public static GitRepos create(Path root, Map<String, String> files) {
    GitRepos repos = new GitRepos(root);
    try {
      Files.createDirectories(root);
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
    GitCli.run(root, "init", "-q", "--bare", "-b", "main", repos.origin.toString());
    GitCli.run(repos.origin, "config", "core.logAllRefUpdates", "always");
    GitCli.run(root, "init", "-q", "-b", "main", repos.work.toString());
    GitCli.run(repos.work, "remote", "add", "origin", repos.origin.toString());
    repos.write(files);
    GitCli.run(repos.work, "add", "-A");
    GitCli.run(repos.work, "commit", "-q", "-m", "initial");
    GitCli.run(repos.work, "push", "-q", "origin", "main");
    return repos;
  }

  public Path root() {
    return root;
  }

  public Path origin() {
    return origin;
  }

  public String originUrl() {
    return origin.toString();
  }

  public Path work() {
    return work;
  }

  /** Commits {@code files} on {@code branch} (created from {@code from} if new) and pushes it; returns the SHA. */
  public String commit(String branch, String from, String message, Map<String, String> files) {
    GitCli.run(work, "checkout", "-q", "-B", branch, from);
    write(files);
    GitCli.run(work, "add", "-A");
    GitCli.run(work, "commit", "-q", "-m", message);
    GitCli.run(work, "push", "-q", "-f", "origin", branch);
    return GitCli.run(work, "rev-parse", "HEAD");
  }

  /** Commits on top of the branch's current tip in the work clone. */
  public String commit(String branch, String message, Map<String, String> files) {
    return commit(branch, branch, message, files);
  }

  /** Brings the work clone's {@code main} up to origin's. */
  public void syncMain() {
    GitCli.run(work, "fetch", "-q", "origin");
    GitCli.run(work, "checkout", "-q", "-B", "main", "origin/main");
  }

  public String tip(String branch) {
    return GitCli.run(origin, "rev-parse", "refs/heads/" + branch);
  }

  public String tree(String rev) {
    return GitCli.run(origin, "rev-parse", rev + "^{tree}");
  }

  public int count(String rev) {
    return Integer.parseInt(GitCli.run(origin, "rev-list", "--count", rev));
  }

  public String show(String rev, String path) {
    return GitCli.run(origin, "show", rev + ":" + path);
  }

  /** How many times origin's {@code main} was updated, from its ref log. */
  public int mainUpdates() {
    String log = GitCli.run(origin, "reflog", "show", "--format=%H", "refs/heads/main");
    return log.isEmpty() ? 0 : log.split("\n").length;
  }

  /** A copy of origin, for replaying the same operation with command-line git. */
  public Path copyOfOrigin(String name) {
    Path copy = root.resolve(name);
    GitCli.run(root, "clone", "-q", "--bare", "--no-local", origin.toString(), copy.toString());
    return copy;
  }

  private void write(Map<String, String> files) {
    try {
      for (Map.Entry<String, String> f : files.entrySet()) {
        Path p = work.resolve(f.getKey());
        if (f.getValue() == null) {
          Files.deleteIfExists(p);
          continue;
        }
        Files.createDirectories(p.getParent());
        Files.writeString(p, f.getValue(), StandardCharsets.UTF_8);
      }
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /** Builds a root tree by hand, for trees git itself refuses to create. */
  @FunctionalInterface
  public interface RawTree {
    org.eclipse.jgit.lib.ObjectId write(org.eclipse.jgit.lib.ObjectInserter inserter) throws IOException;
  }

  /**
   * Writes a commit whose tree {@code tree} builds straight into origin's object database, with
   * {@code main}'s tip as parent, and points {@code branch} at it; returns the SHA.
   */
  public String commitRawTree(String branch, String message, RawTree tree) {
    try (var repo = org.eclipse.jgit.storage.file.FileRepositoryBuilder.create(origin.toFile());
        var inserter = repo.newObjectInserter()) {
      var cb = new org.eclipse.jgit.lib.CommitBuilder();
      cb.setTreeId(tree.write(inserter));
      cb.setParentId(repo.resolve("refs/heads/main"));
      var who = new org.eclipse.jgit.lib.PersonIdent("Mallory", "mallory@example.com");
      cb.setAuthor(who);
      cb.setCommitter(who);
      cb.setMessage(message + "\n");
      var id = inserter.insert(cb);
      inserter.flush();
      var update = repo.updateRef("refs/heads/" + branch);
      update.setNewObjectId(id);
      update.forceUpdate();
      return id.name();
    } catch (IOException e) {
      throw new UncheckedIOException(e);
    }
  }

  /**
   * The issue's hostile tree: {@code a} as a symbolic link to {@code linkTarget} and {@code a} again
   * as a directory holding {@code pwned.txt}. A naive export writes pwned.txt through the link.
   */
  public static RawTree duplicateEntry(String linkTarget) {
    return inserter -> {
      var inner = new org.eclipse.jgit.lib.TreeFormatter();
      inner.append("pwned.txt", org.eclipse.jgit.lib.FileMode.REGULAR_FILE,
          inserter.insert(org.eclipse.jgit.lib.Constants.OBJ_BLOB, "pwned\n".getBytes(StandardCharsets.UTF_8)));
      var root = new org.eclipse.jgit.lib.TreeFormatter();
      root.append("a", org.eclipse.jgit.lib.FileMode.SYMLINK,
          inserter.insert(org.eclipse.jgit.lib.Constants.OBJ_BLOB, linkTarget.getBytes(StandardCharsets.UTF_8)));
      root.append("a", org.eclipse.jgit.lib.FileMode.TREE, inserter.insert(inner));
      return inserter.insert(root);
    };
  }

  /** Path/content pairs; a null content deletes the file. */
  public static Map<String, String> files(String... pathsAndContents) {
    Map<String, String> files = new java.util.LinkedHashMap<>();
    for (int i = 0; i < pathsAndContents.length; i += 2) {
      files.put(pathsAndContents[i], pathsAndContents[i + 1]);
    }
    return files;
  }

  public static String changeUri(String branch, String sha) {
    return "change://origin/refs/heads/" + branch + "@" + sha;
  }
}
