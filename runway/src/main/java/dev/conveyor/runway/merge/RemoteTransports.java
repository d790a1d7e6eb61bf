package dev.conveyor.runway.merge;

import dev.conveyor.runway.queue.RemoteAuth;
import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.eclipse.jgit.lib.Repository;
import org.eclipse.jgit.transport.SshTransport;
import org.eclipse.jgit.transport.Transport;
import org.eclipse.jgit.transport.TransportHttp;
import org.eclipse.jgit.transport.URIish;
import org.eclipse.jgit.transport.UsernamePasswordCredentialsProvider;
import org.eclipse.jgit.transport.sshd.SshdSessionFactory;
import org.eclipse.jgit.transport.sshd.SshdSessionFactoryBuilder;

/**
 * Opens a transport to a remote, signed in as the queue says ({@link RemoteAuth}): HTTP basic or a bearer
 * header, or SSH with one key and one known-hosts file — never the server user's {@code ~/.ssh}, its SSH
 * config or agent, and never a host key that file does not list. Secrets are read when the connection
 * opens and go nowhere else.
 */
final class RemoteTransports {
  /** One SSH client per key and known-hosts pair (it holds a connection pool and a key cache). */
  private static final Map<RemoteAuth.Ssh, SshdSessionFactory> SSH = new ConcurrentHashMap<>();

  private RemoteTransports() {}

  static Transport open(Repository repo, URIish uri, RemoteAuth auth) throws IOException {
    if (auth instanceof RemoteAuth.Basic || auth instanceof RemoteAuth.Bearer) {
      // JGit re-sends added headers and offers credentials to wherever a redirect points: never follow one
      repo.getConfig().setString("http", null, "followRedirects", "false");
    }
    Transport transport = Transport.open(repo, uri);
    try {
      configure(transport, uri, auth);
      return transport;
    } catch (IOException | RuntimeException e) {
      transport.close();
      throw e;
    }
  }

  private static void configure(Transport transport, URIish uri, RemoteAuth auth) throws IOException {
    if (auth instanceof RemoteAuth.Basic basic) {
      transport.setCredentialsProvider(new UsernamePasswordCredentialsProvider(basic.username(), basic.password().read()));
    } else if (auth instanceof RemoteAuth.Bearer bearer) {
      if (!(transport instanceof TransportHttp http)) {
        throw new IOException("bearer auth needs an http(s) remote, not " + uri.getScheme());
      }
      http.setAdditionalHeaders(Map.of("Authorization", "Bearer " + bearer.token().read()));
    } else if (transport instanceof SshTransport && !(auth instanceof RemoteAuth.Ssh)) {
      throw new IOException("the ssh remote " + uri + " needs remote-auth = ssh (a key and known hosts); the server"
          + " user's ~/.ssh is never used");
    } else if (auth instanceof RemoteAuth.Ssh ssh) {
      if (!(transport instanceof SshTransport sshTransport)) {
        throw new IOException("ssh auth needs an ssh remote, not " + uri);
      }
      sshTransport.setSshSessionFactory(SSH.computeIfAbsent(ssh, RemoteTransports::sshClient));
    }
  }

  private static SshdSessionFactory sshClient(RemoteAuth.Ssh ssh) {
    File none;
    try {
      // an empty directory stands for ~/.ssh: no config, keys or known hosts of the server's user are read
      none = Files.createTempDirectory("conveyor-ssh").toFile();
      none.deleteOnExit();
    } catch (IOException e) {
      throw new java.io.UncheckedIOException(e);
    }
    return new SshdSessionFactoryBuilder().setHomeDirectory(none).setSshDirectory(none)
        .setConfigStoreFactory((home, file, user) -> null)
        .setDefaultKnownHostsFiles(dir -> List.of(ssh.knownHosts()))
        .setDefaultIdentities(dir -> List.<Path>of(ssh.key()))
        .setPreferredAuthentications("publickey")
        .build(null);
  }
}
