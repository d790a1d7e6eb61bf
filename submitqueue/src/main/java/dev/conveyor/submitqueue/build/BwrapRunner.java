package dev.conveyor.submitqueue.build;

import dev.conveyor.submitqueue.config.BuildIsolation;
import java.io.IOException;
import java.io.OutputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.LinkOption;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * Runs a build inside bubblewrap: every namespace unshared (the network too unless the queue allows
 * it), the system directories and a few /etc files read-only, fresh /proc, /dev and /tmp, the
 * exported tree at {@code /build} as the only host directory it can write, HOME on the private
 * /tmp, and only the queue's environment (bwrap itself starts with none). The data directory and everything else of the host stay
 * out of its mount namespace. The options go to bwrap on stdin ({@code --args 0}), so neither the
 * tree's host path nor declared values show in any process's command line.
 */
record BwrapRunner(Path bwrap, Path bash, BuildIsolation isolation) implements BuildRunner {
  static final String TREE = "/build";
  static final String HOME = "/tmp/home";
  /** Merged-/usr symlinks or real directories, whichever the host has. */
  static final List<String> SYSTEM_DIRS = List.of("/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32");
  /** What dynamic linking, user lookups, TLS and time zones need; nothing else of /etc. */
  static final List<String> ETC = List.of("/etc/ld.so.cache", "/etc/ld.so.conf", "/etc/ld.so.conf.d",
      "/etc/passwd", "/etc/group", "/etc/nsswitch.conf", "/etc/ssl", "/etc/ca-certificates",
      "/etc/ca-certificates.conf", "/etc/pki", "/etc/alternatives", "/etc/localtime", "/etc/timezone");
  /** Host directories every sandbox shows (read-only); the data directory must not lie in one. */
  static final List<String> SYSTEM_DIRS_SHOWN = List.of("/usr", "/bin", "/sbin", "/lib", "/lib32", "/lib64",
      "/libx32", "/etc/ssl", "/etc/ca-certificates", "/etc/pki", "/etc/alternatives", "/etc/ld.so.conf.d");
  /** Name resolution, only for builds with network. */
  static final List<String> ETC_NETWORK = List.of("/etc/resolv.conf", "/etc/hosts", "/etc/host.conf", "/etc/gai.conf");

  @Override
  public Process start(String command, Path tree, Path scratch) throws IOException {
    ProcessBuilder pb = new ProcessBuilder(bwrap.toString(), "--args", "0", "--", bash.toString(), "-c", command)
        .redirectErrorStream(true);
    // bwrap itself gets nothing of the server's environment: its reaper is the sandbox's pid 1, and a
    // build can read /proc/1/environ (--clearenv only clears what bwrap passes on)
    pb.environment().clear();
    Process p = pb.start();
    try (OutputStream in = p.getOutputStream()) {
      for (String arg : options(tree)) {
        in.write(arg.getBytes(StandardCharsets.UTF_8));
        in.write(0);
      }
    } catch (IOException e) {
      // bwrap exited before reading its options; its own message is in the output, its exit code the verdict
    }
    return p;
  }

  @Override
  public boolean sandboxed() {
    return true;
  }

  /** bwrap's options for a build in {@code tree}. */
  List<String> options(Path tree) {
    List<String> a = new ArrayList<>(List.of("--unshare-all"));
    if (isolation.network()) {
      a.add("--share-net");
    }
    a.addAll(List.of("--die-with-parent", "--new-session", "--clearenv", "--ro-bind", "/usr", "/usr"));
    for (String dir : SYSTEM_DIRS) {
      Path p = Path.of(dir);
      if (Files.isSymbolicLink(p)) {
        a.addAll(List.of("--symlink", readLink(p), dir));
      } else if (Files.isDirectory(p, LinkOption.NOFOLLOW_LINKS)) {
        a.addAll(List.of("--ro-bind", dir, dir));
      }
    }
    for (String f : ETC) {
      a.addAll(List.of("--ro-bind-try", f, f));
    }
    if (isolation.network()) {
      for (String f : ETC_NETWORK) {
        a.addAll(List.of("--ro-bind-try", f, f));
      }
    }
    a.addAll(List.of("--proc", "/proc", "--dev", "/dev", "--tmpfs", "/tmp", "--dir", HOME));
    for (Path p : isolation.readOnlyPaths()) {
      a.addAll(List.of("--ro-bind", p.toString(), p.toString()));
    }
    a.addAll(List.of("--bind", tree.toAbsolutePath().toString(), TREE, "--chdir", TREE));
    BuildRunner.environment(isolation, HOME).forEach((k, v) -> a.addAll(List.of("--setenv", k, v)));
    return a;
  }

  private static String readLink(Path p) {
    try {
      return Files.readSymbolicLink(p).toString();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
  }
}
