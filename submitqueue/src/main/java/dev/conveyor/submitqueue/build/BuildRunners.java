package dev.conveyor.submitqueue.build;

import dev.conveyor.submitqueue.config.BuildIsolation;
import dev.conveyor.submitqueue.config.BuildIsolation.Sandbox;
import dev.conveyor.submitqueue.config.SubmitQueueConfig;
import dev.conveyor.submitqueue.config.SubmitQueues;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * The local runners of one process: bubblewrap when it is installed and works here, else plain
 * processes; each queue gets the one its {@code build-sandbox} asks for. {@code hidden} is the
 * directory no build may see (the data directory), so no read-only path may contain it or lie in it.
 */
public final class BuildRunners {
  private static volatile Probe probe;

  /** Whether bwrap is usable on this machine, and why not. Probed once per process. */
  record Probe(Path bwrap, String unavailable) {}

  private final Path bwrap;
  private final String unavailable;
  private final Path bash;
  private final Path hidden;

  BuildRunners(Path bwrap, String unavailable, Path hidden) {
    this.bwrap = bwrap;
    this.unavailable = unavailable;
    this.bash = Files.isExecutable(Path.of("/bin/bash")) ? Path.of("/bin/bash") : Path.of("/usr/bin/bash");
    this.hidden = hidden.toAbsolutePath().normalize();
  }

  /** Finds bwrap on the server's PATH and checks it can make a sandbox here (containers may forbid namespaces). */
  public static BuildRunners detect(Path hidden) {
    Probe p = probe;
    if (p == null) {
      p = probe = probe();
    }
    return new BuildRunners(p.bwrap(), p.unavailable(), hidden);
  }

  /** Why builds cannot be sandboxed on this machine, or empty when bubblewrap is usable. */
  public static java.util.Optional<String> bubblewrapUnavailable() {
    detect(Path.of("/"));
    return probe.bwrap() == null ? java.util.Optional.of(probe.unavailable()) : java.util.Optional.empty();
  }

  /** Runners that never sandbox (bwrap treated as absent), for tests of that path. */
  public static BuildRunners withoutBwrap(Path hidden) {
    return new BuildRunners(null, "bwrap disabled", hidden);
  }

  private static Probe probe() {
    String path = System.getenv("PATH");
    Path found = null;
    for (String dir : (path == null ? "/usr/bin:/bin" : path).split(File.pathSeparator)) {
      Path candidate = Path.of(dir.isEmpty() ? "." : dir, "bwrap");
      if (Files.isExecutable(candidate)) {
        found = candidate.toAbsolutePath();
        break;
      }
    }
    if (found == null) {
      return new Probe(null, "bwrap (Debian package bubblewrap) is not on PATH");
    }
    BwrapRunner trial = new BwrapRunner(found, Path.of("/bin/sh"), BuildIsolation.DEFAULT);
    try {
      Path tree = Files.createTempDirectory("conveyor-bwrap-probe");
      try {
        Process p = trial.start("true", tree, tree);
        String out = new String(p.getInputStream().readAllBytes(), java.nio.charset.StandardCharsets.UTF_8).strip();
        if (!p.waitFor(30, TimeUnit.SECONDS)) {
          p.destroyForcibly();
          return new Probe(null, found + " did not finish a trial sandbox in 30 s");
        }
        if (p.exitValue() != 0) {
          return new Probe(null, found + " cannot make a sandbox here (exit " + p.exitValue() + ": " + out + ")");
        }
      } finally {
        Files.deleteIfExists(tree);
      }
    } catch (IOException e) {
      return new Probe(null, found + " cannot be run: " + e.getMessage());
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      return new Probe(null, "interrupted while trying " + found);
    }
    return new Probe(found, null);
  }

  /**
   * Refuses a configuration this process cannot honour: a queue that requires bwrap where it is not
   * usable, or a read-only path that is missing, contains the hidden directory or lies inside it.
   */
  public void check(SubmitQueues queues) {
    for (SubmitQueueConfig q : queues.all()) {
      BuildIsolation iso = q.isolation();
      if (iso.sandbox() == Sandbox.BWRAP && bwrap == null) {
        throw new IllegalArgumentException("queue." + q.name() + ".build-sandbox = bwrap, but " + unavailable
            + " (install bubblewrap, or set build-sandbox = auto)");
      }
      Path hiddenReal = real(hidden);
      if (forQueue(q).sandboxed()) {
        for (String system : BwrapRunner.SYSTEM_DIRS_SHOWN) {
          if (hiddenReal.startsWith(real(Path.of(system)))) {
            throw new IllegalArgumentException("the data directory " + hidden + " lies under " + system
                + ", which sandboxed builds see read-only; move it (queue '" + q.name() + "' builds in bubblewrap)");
          }
        }
      }
      for (Path p : iso.readOnlyPaths()) {
        String key = "queue." + q.name() + ".build-read-only-paths";
        if (!Files.exists(p)) {
          throw new IllegalArgumentException(key + ": " + p + " does not exist on this machine");
        }
        Path r = real(p);
        if (hiddenReal.startsWith(r) || r.startsWith(hiddenReal)) {
          throw new IllegalArgumentException(key + ": " + p + (r.startsWith(hiddenReal) ? " is inside" : " contains")
              + " the data directory " + hidden + ", which builds must never see");
        }
      }
    }
  }

  /** The runner for {@code queue}'s builds. */
  public BuildRunner forQueue(SubmitQueueConfig queue) {
    BuildIsolation iso = queue.isolation();
    if (iso.sandbox() == Sandbox.NONE || (bwrap == null && iso.sandbox() == Sandbox.AUTO)) {
      return new PlainRunner(bash, iso);
    }
    if (bwrap == null) {
      throw new IllegalStateException("queue '" + queue.name() + "' requires bwrap, but " + unavailable);
    }
    return new BwrapRunner(bwrap, bash, iso);
  }

  /** One line per kind of queue for the operator: which builds run sandboxed and which do not, and why. */
  public List<String> summary(SubmitQueues queues) {
    List<String> sandboxed = new ArrayList<>();
    List<String> byChoice = new ArrayList<>();
    List<String> absent = new ArrayList<>();
    for (SubmitQueueConfig q : queues.all()) {
      if (forQueue(q).sandboxed()) {
        sandboxed.add(q.name());
      } else if (q.isolation().sandbox() == Sandbox.NONE) {
        byChoice.add(q.name());
      } else {
        absent.add(q.name());
      }
    }
    List<String> lines = new ArrayList<>();
    if (!sandboxed.isEmpty()) {
      lines.add("builds of " + sandboxed + " run sandboxed in bubblewrap (" + bwrap + ")");
    }
    if (!absent.isEmpty()) {
      lines.add("WARNING: builds of " + absent + " are NOT sandboxed: " + unavailable + "; they run with a clean"
          + " environment but can read and write whatever this user can (install bubblewrap)");
    }
    if (!byChoice.isEmpty()) {
      lines.add("WARNING: builds of " + byChoice + " are NOT sandboxed (build-sandbox = none)");
    }
    return lines;
  }

  private static Path real(Path p) {
    try {
      return p.toRealPath();
    } catch (IOException e) {
      return p.toAbsolutePath().normalize();
    }
  }
}
