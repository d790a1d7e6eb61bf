package dev.conveyor.runway.merge;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.runway.testing.GitRepos;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import org.eclipse.jgit.lib.CommitBuilder;
import org.eclipse.jgit.lib.Constants;
import org.eclipse.jgit.lib.FileMode;
import org.eclipse.jgit.lib.ObjectId;
import org.eclipse.jgit.lib.ObjectInserter;
import org.eclipse.jgit.lib.PersonIdent;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.lib.TreeFormatter;
import org.eclipse.jgit.storage.file.FileRepositoryBuilder;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The export alone, on trees written by hand straight into a repository (no fetch, so no fetch-time
 * check stands in front of it): it must refuse what could escape or alias, and never write through a link.
 */
class TreeExportTest {
  @TempDir Path tmp;
  Repository repo;
  ObjectInserter inserter;
  Path outside;
  Path build;

  @BeforeEach
  void open() throws IOException {
    repo = FileRepositoryBuilder.create(tmp.resolve("repo.git").toFile());
    repo.create(true);
    inserter = repo.newObjectInserter();
    outside = Files.createDirectories(tmp.resolve("outside"));
    build = tmp.resolve("builds").resolve("job-1");
  }

  @AfterEach
  void close() {
    inserter.close();
    repo.close();
  }

  @Test
  void duplicateEntryOfALinkAndADirectoryIsRefusedAndNothingIsWrittenThroughTheLink() throws Exception {
    ObjectId commit = commit(GitRepos.duplicateEntry(outside.toString()).write(inserter));

    assertThatThrownBy(() -> export(commit)).isInstanceOf(UnsafeTreeException.class)
        .hasMessageContaining("has a duplicate entry 'a'");
    assertThat(outside.resolve("pwned.txt")).doesNotExist();
    assertThat(outside).isEmptyDirectory();
  }

  @Test
  void namesThatEscapeOrAliasAreRefused() throws Exception {
    ObjectId blob = blob("x\n");
    for (String name : new String[] {".git", ".GIT", ".git.", "git~1", "..", "."}) {
      TreeFormatter t = new TreeFormatter();
      t.append(name, FileMode.TREE, tree("config", blob));
      Path dir = tmp.resolve("builds").resolve("dot-" + name.hashCode());
      ObjectId commit = commit(inserter.insert(t));
      assertThatThrownBy(() -> TreeExport.export(repo.newObjectReader(), commit, dir)).as(name)
          .isInstanceOf(UnsafeTreeException.class).hasMessageContaining("named '" + name + "'");
    }
    TreeFormatter slash = new TreeFormatter();
    slash.append("../../outside/pwned.txt".getBytes(StandardCharsets.UTF_8), FileMode.REGULAR_FILE, blob);
    ObjectId escaping = commit(inserter.insert(slash));
    assertThatThrownBy(() -> export(escaping)).isInstanceOf(UnsafeTreeException.class)
        .hasMessageContaining("a '/' or NUL in a name");
    assertThat(outside).isEmptyDirectory();
  }

  @Test
  void caseCollidingNamesAreRefused() throws Exception {
    TreeFormatter t = new TreeFormatter();
    t.append("README", FileMode.REGULAR_FILE, blob("upper\n"));
    t.append("readme", FileMode.REGULAR_FILE, blob("lower\n"));
    ObjectId commit = commit(inserter.insert(t));

    assertThatThrownBy(() -> export(commit)).isInstanceOf(UnsafeTreeException.class)
        .hasMessageContaining("case-colliding entries 'README' and 'readme'");
  }

  @Test
  void symbolicLinksAreWrittenAsLinksAndNeverFollowed() throws Exception {
    Files.writeString(outside.resolve("secret"), "keep\n");
    TreeFormatter sub = new TreeFormatter();
    sub.append("run.sh", FileMode.EXECUTABLE_FILE, blob("#!/bin/sh\necho hi\n"));
    TreeFormatter t = new TreeFormatter();
    t.append("bin", FileMode.TREE, inserter.insert(sub));
    t.append("link", FileMode.SYMLINK, blob(outside.toString()));
    t.append("secret-link", FileMode.SYMLINK, blob(outside.resolve("secret").toString()));
    ObjectId commit = commit(inserter.insert(t));

    assertThat(export(commit)).isEqualTo(3);

    assertThat(Files.isSymbolicLink(build.resolve("link"))).isTrue();
    assertThat(Files.readSymbolicLink(build.resolve("link"))).isEqualTo(outside);
    assertThat(Files.isSymbolicLink(build.resolve("secret-link"))).isTrue();
    assertThat(Files.readString(outside.resolve("secret"))).isEqualTo("keep\n");
    assertThat(Files.isExecutable(build.resolve("bin/run.sh"))).isTrue();
    assertThat(Files.readString(build.resolve("bin/run.sh"))).isEqualTo("#!/bin/sh\necho hi\n");
  }

  @Test
  void anExistingBuildDirectoryOrALinkInItsPlaceIsNeverWrittenInto() throws Exception {
    ObjectId commit = commit(tree("f.txt", blob("x\n")));
    Files.createDirectories(build.getParent());
    Files.createSymbolicLink(build, outside);

    assertThatThrownBy(() -> export(commit)).isInstanceOf(java.nio.file.FileAlreadyExistsException.class);
    assertThat(outside).isEmptyDirectory();
  }

  private int export(ObjectId commit) throws IOException, UnsafeTreeException {
    try (var reader = repo.newObjectReader()) {
      return TreeExport.export(reader, commit, build);
    }
  }

  private ObjectId blob(String content) throws IOException {
    return inserter.insert(Constants.OBJ_BLOB, content.getBytes(StandardCharsets.UTF_8));
  }

  private ObjectId tree(String name, ObjectId blob) throws IOException {
    TreeFormatter t = new TreeFormatter();
    t.append(name, FileMode.REGULAR_FILE, blob);
    return inserter.insert(t);
  }

  private ObjectId commit(ObjectId tree) throws IOException {
    CommitBuilder cb = new CommitBuilder();
    cb.setTreeId(tree);
    PersonIdent who = new PersonIdent("t", "t@example.com");
    cb.setAuthor(who);
    cb.setCommitter(who);
    cb.setMessage("t\n");
    ObjectId id = inserter.insert(cb);
    inserter.flush();
    return id;
  }
}
