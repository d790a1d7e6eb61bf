package dev.conveyor.runway.testing;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Assumptions;

/**
 * OpenSSH's own server ({@code /usr/sbin/sshd}, Debian's openssh-server) on a loopback port, letting one
 * generated client key in as the current user, so git over SSH reaches repositories on this machine.
 * Without sshd the test is skipped, or fails when {@code CONVEYOR_REQUIRE_SSHD=1} (CI).
 */
public final class SshGitServer implements AutoCloseable {
  private static final Path SSHD = Path.of("/usr/sbin/sshd");
  private final Process process;
  private final int port;
  private final Path dir;

  private SshGitServer(Process process, int port, Path dir) {
    this.process = process;
    this.port = port;
    this.dir = dir;
  }

  public static SshGitServer start(Path dir) throws IOException, InterruptedException {
    boolean usable = Files.isExecutable(SSHD) && "root".equals(System.getProperty("user.name"));
    if (!usable && "1".equals(System.getenv("CONVEYOR_REQUIRE_SSHD"))) {
      throw new IllegalStateException("sshd (Debian's openssh-server) is required here: " + SSHD
          + " missing or not running as root");
    }
    Assumptions.assumeTrue(usable, "sshd (openssh-server) is not installed, or the tests do not run as root");
    Files.createDirectories(dir);
    Files.createDirectories(Path.of("/run/sshd")); // sshd's privilege separation directory
    keygen(dir.resolve("host_key"));
    keygen(dir.resolve("client_key"));
    keygen(dir.resolve("other_host_key"));
    Files.copy(dir.resolve("client_key.pub"), dir.resolve("authorized_keys"));
    int port;
    try (ServerSocket s = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
      port = s.getLocalPort();
    }
    Files.writeString(dir.resolve("sshd_config"), String.join("\n",
        "Port " + port, "ListenAddress 127.0.0.1", "HostKey " + dir.resolve("host_key"),
        "AuthorizedKeysFile " + dir.resolve("authorized_keys"), "PasswordAuthentication no",
        "KbdInteractiveAuthentication no", "PubkeyAuthentication yes", "PermitRootLogin prohibit-password",
        "StrictModes no", "UsePAM no", "PidFile " + dir.resolve("sshd.pid"), "LogLevel ERROR", ""));
    Process p = new ProcessBuilder(SSHD.toString(), "-D", "-e", "-f", dir.resolve("sshd_config").toString())
        .redirectErrorStream(true).redirectOutput(dir.resolve("sshd.log").toFile()).start();
    SshGitServer server = new SshGitServer(p, port, dir);
    try {
      org.awaitility.Awaitility.await().atMost(java.time.Duration.ofSeconds(20))
          .pollInterval(java.time.Duration.ofMillis(50)).until(() -> {
            if (!p.isAlive()) {
              throw new IllegalStateException("sshd exited: " + Files.readString(dir.resolve("sshd.log")));
            }
            try (Socket s = new Socket()) {
              s.connect(new InetSocketAddress("127.0.0.1", port), 500);
              return true;
            } catch (IOException notYet) {
              return false;
            }
          });
    } catch (RuntimeException e) {
      server.close();
      throw new IllegalStateException("sshd did not start: " + Files.readString(dir.resolve("sshd.log")), e);
    }
    return server;
  }

  private static void keygen(Path key) throws IOException, InterruptedException {
    Process p = new ProcessBuilder("ssh-keygen", "-q", "-t", "ed25519", "-N", "", "-C", "conveyor-test", "-f",
        key.toString()).redirectErrorStream(true).start();
    String out = new String(p.getInputStream().readAllBytes());
    if (p.waitFor() != 0) {
      throw new IOException("ssh-keygen failed: " + out);
    }
  }

  /** {@code ssh://USER@127.0.0.1:PORT/<absolute path>} for a repository on this machine. */
  public String url(Path repository) {
    return "ssh://" + System.getProperty("user.name") + "@127.0.0.1:" + port + repository.toAbsolutePath();
  }

  public Path clientKey() {
    return dir.resolve("client_key");
  }

  /** A known-hosts file listing this server's real host key. */
  public Path knownHosts() throws IOException {
    return knownHosts("known_hosts", dir.resolve("host_key.pub"));
  }

  /** A known-hosts file that lists another key for this server (as after a man in the middle). */
  public Path wrongKnownHosts() throws IOException {
    return knownHosts("wrong_known_hosts", dir.resolve("other_host_key.pub"));
  }

  private Path knownHosts(String name, Path publicKey) throws IOException {
    String[] key = Files.readString(publicKey).trim().split(" ");
    Path file = dir.resolve(name);
    Files.writeString(file, "[127.0.0.1]:" + port + " " + key[0] + " " + key[1] + "\n");
    return file;
  }

  @Override
  public void close() {
    process.destroy();
    try {
      if (!process.waitFor(5, TimeUnit.SECONDS)) {
        process.destroyForcibly();
      }
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
    }
  }
}
