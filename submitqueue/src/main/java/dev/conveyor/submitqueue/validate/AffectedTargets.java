package dev.conveyor.submitqueue.validate;

import dev.conveyor.runway.change.ChangeUri;
import dev.conveyor.runway.merge.Merger;
import dev.conveyor.runway.merge.UnsafeTreeException;
import dev.conveyor.submitqueue.build.BuildRunners;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.TargetsCommand;
import dev.conveyor.submitqueue.build.BuildRunner;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.nio.file.FileAlreadyExistsException;
import java.nio.file.LinkOption;
import java.nio.file.StandardOpenOption;
import java.util.concurrent.atomic.AtomicBoolean;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Collection;
import java.util.Comparator;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;

/**
 * A change's affected build targets ({@code conflict-analyzer = targets}): the change's tree (its last
 * commit) written out safely, as for a build, with the paths it changes in {@code .conveyor-changed-paths}
 * (one a line; {@code CONVEYOR_CHANGED_PATHS} names the file), and the queue's {@code targets-command} run
 * there through the queue's build runner (bubblewrap when available), within its timeout. Each line it
 * prints is a target (at most {@value TargetsCommand#MAX_TARGETS}, each printable and at most
 * {@value TargetsCommand#MAX_TARGET_BYTES} bytes); a non-zero exit, a timeout or a bad line is a
 * {@link Failed} naming what went wrong, never what the command printed besides.
 */
final class AffectedTargets {
  static final String CHANGED_PATHS = ".conveyor-changed-paths";
  private static final long MAX_OUTPUT = (long) TargetsCommand.MAX_TARGETS * (TargetsCommand.MAX_TARGET_BYTES + 1);

  /** The command could not say (deterministically: the same change gives the same answer). */
  static final class Failed extends Exception {
    private static final long serialVersionUID = 1L;

    Failed(String message) {
      super(message);
    }
  }

  private final Merger merger;
  private final Path root;

  AffectedTargets(Merger merger, Path root) {
    this.merger = merger;
    this.root = root;
  }

  Set<String> of(SubmitQueueConfig queue, TargetsCommand command, ChangeUri head, Collection<String> changedPaths)
      throws IOException, Failed, InterruptedException {
    BuildRunner runner = BuildRunners.detect(root).forQueue(queue);
    if (!runner.sandboxed()) { // the command comes with the change: it never runs beside the ledger and secrets
      throw new Failed("targets-command runs the change's code and needs bubblewrap, which is not usable here: "
          + BuildRunners.bubblewrapUnavailable().orElse("install Debian's bubblewrap"));
    }
    Files.createDirectories(root);
    Path work = Files.createTempDirectory(root, "targets");
    Path tree = work.resolve("tree");
    Path scratch = work.resolve("home");
    try {
      try {
        merger.export(queue.git(), head.sha(), tree);
      } catch (UnsafeTreeException e) {
        throw new Failed("refused to write out the change's tree: " + e.getMessage());
      }
      // CREATE_NEW never follows a link the change committed under this name (nor overwrites its file)
      try (var out = Files.newOutputStream(tree.resolve(CHANGED_PATHS), StandardOpenOption.CREATE_NEW,
          StandardOpenOption.WRITE, LinkOption.NOFOLLOW_LINKS)) {
        out.write((String.join("\n", changedPaths) + "\n").getBytes(StandardCharsets.UTF_8));
      } catch (FileAlreadyExistsException e) {
        throw new Failed("the change's tree has an entry named " + CHANGED_PATHS + ", which targets analysis writes");
      }
      Files.createDirectory(scratch);
      Process p = runner.start("export CONVEYOR_CHANGED_PATHS=" + CHANGED_PATHS + "\nexport CONVEYOR_HEAD_SHA="
          + head.sha().name() + "\n" + command.command(), tree, scratch);
      ByteArrayOutputStream out = new ByteArrayOutputStream();
      AtomicBoolean overflow = new AtomicBoolean();
      Thread reader = new Thread(() -> drain(p.getInputStream(), out, overflow), "targets-output");
      reader.setDaemon(true);
      reader.start();
      try {
        if (!p.waitFor(command.timeout().toMillis(), TimeUnit.MILLISECONDS)) {
          throw new Failed("targets-command timed out after " + command.timeout());
        }
        reader.join(5_000);
      } finally {
        p.descendants().forEach(ProcessHandle::destroyForcibly);
        p.destroyForcibly();
      }
      if (overflow.get()) {
        throw new Failed("targets-command printed more than " + TargetsCommand.MAX_TARGETS + " targets' worth");
      }
      if (p.exitValue() != 0) {
        throw new Failed("targets-command exited " + p.exitValue());
      }
      Set<String> targets = new TreeSet<>();
      byte[] printed;
      synchronized (out) {
        printed = out.toByteArray();
      }
      for (String line : new String(printed, StandardCharsets.UTF_8).split("\n")) {
        String t = line.strip();
        if (t.isEmpty()) {
          continue;
        }
        if (t.getBytes(StandardCharsets.UTF_8).length > TargetsCommand.MAX_TARGET_BYTES
            || !t.codePoints().allMatch(c -> c > 0x20 && c != 0x7f)) {
          throw new Failed("targets-command printed a line that is not a target (at most "
              + TargetsCommand.MAX_TARGET_BYTES + " printable bytes, no spaces)");
        }
        targets.add("target:" + t);
      }
      if (targets.size() > TargetsCommand.MAX_TARGETS) {
        throw new Failed("targets-command printed more than " + TargetsCommand.MAX_TARGETS + " targets");
      }
      return targets;
    } finally {
      deleteQuietly(work);
    }
  }

  /** Reads the command's output up to the cap; past it, reads on (so the command never blocks) and keeps nothing. */
  private static void drain(InputStream in, ByteArrayOutputStream out, AtomicBoolean overflow) {
    byte[] buf = new byte[8192];
    try (in) {
      for (int n; (n = in.read(buf)) > 0; ) {
        synchronized (out) {
          if (out.size() + n > MAX_OUTPUT) {
            overflow.set(true);
            out.reset();
          } else if (!overflow.get()) {
            out.write(buf, 0, n);
          }
        }
      }
    } catch (IOException e) {
      // the process was killed
    }
  }

  private static void deleteQuietly(Path dir) {
    try (var paths = Files.walk(dir)) {
      paths.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
    } catch (IOException ignored) {
      // a temp directory: the OS cleans what is left
    }
  }
}
