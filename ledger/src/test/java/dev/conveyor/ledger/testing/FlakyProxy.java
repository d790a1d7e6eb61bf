package dev.conveyor.ledger.testing;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A TCP proxy in front of the test PostgreSQL that can fail the network the way a flaky one does:
 * go down (sever every connection and refuse new ones), let the next COMMIT reach the server and
 * then cut the connection before the client hears the answer (a commit whose acknowledgement is lost),
 * or black-hole the open connections (bytes vanish both ways and nobody closes anything: a NAT or
 * firewall that dropped an idle flow, a host that went away).
 */
public final class FlakyProxy implements AutoCloseable {
  private static final byte[] COMMIT = "COMMIT".getBytes(StandardCharsets.US_ASCII);

  private final ServerSocket server;
  private final String target;
  private final int targetPort;
  private final List<Socket> open = new CopyOnWriteArrayList<>();
  private final java.util.Set<Socket> blackHoled = java.util.concurrent.ConcurrentHashMap.newKeySet();
  private final AtomicBoolean cutNextCommit = new AtomicBoolean();
  private final AtomicInteger commitsCut = new AtomicInteger();
  private volatile boolean down;

  public FlakyProxy(String target, int targetPort) throws IOException {
    this.target = target;
    this.targetPort = targetPort;
    this.server = new ServerSocket(0, 50, InetAddress.getLoopbackAddress());
    Thread acceptor = new Thread(this::accept, "flaky-proxy-accept");
    acceptor.setDaemon(true);
    acceptor.start();
  }

  /**
   * A PostgreSQL ledger URL for {@code database} through this proxy. Server-side prepared statements
   * are off, so every COMMIT crosses the wire as text the proxy can recognise.
   */
  public String ledgerUrl(String database) {
    return "postgresql://postgres@127.0.0.1:" + server.getLocalPort() + "/" + database + "?prepareThreshold=0";
  }

  public int port() {
    return server.getLocalPort();
  }

  /** Connections through the proxy now open. */
  public int openConnections() {
    return open.size() / 2;
  }

  /** Severs every connection and refuses new ones until {@link #up}. */
  public void down() {
    down = true;
    open.forEach(FlakyProxy::closeQuietly);
    open.clear();
  }

  public void up() {
    down = false;
  }

  /** From now on every connection open now carries nothing either way, and stays open; new ones work. */
  public void blackHoleOpenConnections() {
    blackHoled.addAll(open);
  }

  /** The next COMMIT reaches the server, which answers; the answer is dropped and the connection cut. */
  public void cutNextCommitAfterItIsProcessed() {
    cutNextCommit.set(true);
  }

  public int commitsCut() {
    return commitsCut.get();
  }

  private void accept() {
    while (!server.isClosed()) {
      try {
        Socket client = server.accept();
        if (down) {
          closeQuietly(client);
          continue;
        }
        Socket upstream = new Socket(target, targetPort);
        open.add(client);
        open.add(upstream);
        AtomicBoolean cutOnAnswer = new AtomicBoolean();
        pump(client, upstream, cutOnAnswer, true);
        pump(upstream, client, cutOnAnswer, false);
      } catch (IOException e) {
        // closed, or the server is unreachable: the client sees its connection drop
      }
    }
  }

  private void pump(Socket from, Socket to, AtomicBoolean cutOnAnswer, boolean fromClient) {
    Thread t = new Thread(() -> {
      byte[] buf = new byte[16 * 1024];
      try (InputStream in = from.getInputStream(); OutputStream out = to.getOutputStream()) {
        for (int n; (n = in.read(buf)) > 0; ) {
          if (blackHoled.contains(from)) {
            continue; // read and dropped: the other side hears nothing, and no FIN or RST either
          }
          if (!fromClient && cutOnAnswer.get()) {
            commitsCut.incrementAndGet();
            break; // the server committed and answered; the client never hears it
          }
          if (fromClient && contains(buf, n, COMMIT) && cutNextCommit.compareAndSet(true, false)) {
            cutOnAnswer.set(true);
          }
          out.write(buf, 0, n);
          out.flush();
        }
      } catch (IOException e) {
        // one side went away
      } finally {
        closeQuietly(from);
        closeQuietly(to);
      }
    }, "flaky-proxy-pump");
    t.setDaemon(true);
    t.start();
  }

  private static boolean contains(byte[] buf, int n, byte[] needle) {
    outer:
    for (int i = 0; i + needle.length <= n; i++) {
      for (int j = 0; j < needle.length; j++) {
        if (buf[i + j] != needle[j]) {
          continue outer;
        }
      }
      return true;
    }
    return false;
  }

  private static void closeQuietly(Socket s) {
    try {
      s.close();
    } catch (IOException e) {
      // already closed
    }
  }

  @Override
  public void close() throws IOException {
    server.close();
    down();
  }
}
