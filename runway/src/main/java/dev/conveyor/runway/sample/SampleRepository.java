package dev.conveyor.runway.sample;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import org.eclipse.jgit.api.Git;
import org.eclipse.jgit.api.errors.GitAPIException;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.revwalk.RevCommit;

/**
 * A small repository for demos, written with JGit so no git installation is needed: a bare origin
 * with {@code main} and a handful of change branches (independent ones, two that edit the same line,
 * a broken one that adds a file named BROKEN, and a two-commit stack).
 */
public final class SampleRepository {
  private static final PersonIdent AUTHOR = new PersonIdent("Demo Author", "author@conveyor.invalid");

  private SampleRepository() {}

  /** The origin's path and, per change name, the change URIs to land (in order). */
  public record Created(Path origin, Map<String, String[]> changes) {}

  public static Created create(Path dir) throws IOException {
    Path origin = dir.resolve("origin.git");
    Path work = dir.resolve("work");
    try (Git bare = Git.init().setBare(true).setInitialBranch("main").setDirectory(origin.toFile()).call();
        Git git = Git.init().setInitialBranch("main").setDirectory(work.toFile()).call()) {
      write(work, "README.md", "# demo service\n");
      write(work, "src/app.txt", "greeting = hello\nport = 8080\nmode = dev\n");
      write(work, "src/lib.txt", "retries = 3\n");
      RevCommit base = commit(git, "initial import");
      Map<String, String[]> changes = new LinkedHashMap<>();
      changes.put("docs", new String[] {branch(git, base, "docs", "README.md", "# demo service\n\nRun it with ./run.\n")});
      changes.put("greeting-hi", new String[] {branch(git, base, "greeting-hi", "src/app.txt",
          "greeting = hi\nport = 8080\nmode = dev\n")});
      changes.put("greeting-hey", new String[] {branch(git, base, "greeting-hey", "src/app.txt",
          "greeting = hey\nport = 8080\nmode = dev\n")});
      changes.put("broken", new String[] {branch(git, base, "broken", "BROKEN", "this change fails its build\n")});
      String first = branch(git, base, "retries", "src/lib.txt", "retries = 5\n");
      String second = branch(git, null, "retries", "src/lib.txt", "retries = 5\nbackoff = 200ms\n");
      changes.put("retries (2 commits)", new String[] {uri("retries", first), uri("retries", second)});
      changes.replaceAll((k, v) -> v.length == 1 && !v[0].startsWith("change://") ? new String[] {uri(k, v[0])} : v);
      git.push().setRemote(origin.toUri().toString()).setPushAll().call();
      return new Created(origin, changes);
    } catch (GitAPIException e) {
      throw new IOException("cannot create the sample repository: " + e.getMessage(), e);
    }
  }

  private static String uri(String branch, String sha) {
    return "change://origin/refs/heads/" + branch + "@" + sha;
  }

  /** Commits one file on {@code name} (created from {@code from}, or continued when from is null). */
  private static String branch(Git git, RevCommit from, String name, String path, String content)
      throws IOException, GitAPIException {
    if (from != null) {
      git.checkout().setCreateBranch(true).setName(name).setStartPoint(from).call();
    }
    write(git.getRepository().getWorkTree().toPath(), path, content);
    return commit(git, name + ": change " + path).name();
  }

  private static RevCommit commit(Git git, String message) throws GitAPIException {
    git.add().addFilepattern(".").call();
    return git.commit().setMessage(message).setAuthor(AUTHOR).setCommitter(AUTHOR).call();
  }

  private static void write(Path work, String path, String content) throws IOException {
    Path p = work.resolve(path);
    Files.createDirectories(p.getParent());
    Files.writeString(p, content, StandardCharsets.UTF_8);
  }
}
