package dev.conveyor.runway.testing;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Base64;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * git's own smart HTTP server ({@code git http-backend}, run as CGI per request) on a loopback port, serving
 * the repositories under {@code root} only to a request with the expected credentials: {@code Authorization:
 * Bearer TOKEN} or basic USER:PASSWORD. Anything else is 401 with a Basic challenge (as hosts answer).
 */
public final class GitHttpServer implements AutoCloseable {
  private static final Path BACKEND = Path.of("/usr/lib/git-core/git-http-backend");
  private final HttpServer http;
  private volatile String bearer;
  private volatile String basic;
  /** Requests refused for want of the right credentials. */
  public final AtomicInteger refused = new AtomicInteger();
  /** Requests that arrived carrying an Authorization header. */
  public final AtomicInteger withCredentials = new AtomicInteger();
  private volatile String redirectTo;

  private GitHttpServer(HttpServer http) {
    this.http = http;
  }

  /** Serves {@code root} at {@code http://127.0.0.1:PORT/git/<repo>}. */
  public static GitHttpServer start(Path root) throws IOException {
    HttpServer http = HttpServer.create(new InetSocketAddress("127.0.0.1", 0), 0);
    GitHttpServer server = new GitHttpServer(http);
    http.setExecutor(Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "git-http");
      t.setDaemon(true);
      return t;
    }));
    http.createContext("/git/", exchange -> server.serve(exchange, root));
    http.start();
    return server;
  }

  public String url(String repo) {
    return "http://127.0.0.1:" + http.getAddress().getPort() + "/git/" + repo;
  }

  /** Only this bearer token is accepted from now on (null: none). */
  public void requireBearer(String token) {
    this.bearer = token;
  }

  /** Only this user and password are accepted from now on (null: none). */
  public void requireBasic(String user, String password) {
    this.basic = user == null ? null : Base64.getEncoder().encodeToString((user + ":" + password)
        .getBytes(StandardCharsets.UTF_8));
  }

  /** Answers every request from now on with a redirect to {@code base} + the same path (null: serve). */
  public void redirectTo(String base) {
    this.redirectTo = base;
  }

  private boolean allowed(HttpExchange exchange) {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header == null) {
      return false;
    }
    return (bearer != null && header.equals("Bearer " + bearer)) || (basic != null && header.equals("Basic " + basic));
  }

  private void serve(HttpExchange exchange, Path root) throws IOException {
    try (exchange) {
      if (exchange.getRequestHeaders().getFirst("Authorization") != null) {
        withCredentials.incrementAndGet();
      }
      if (redirectTo != null) {
        String query = exchange.getRequestURI().getRawQuery();
        exchange.getResponseHeaders().set("Location", redirectTo + exchange.getRequestURI().getPath()
            + (query == null ? "" : "?" + query));
        exchange.sendResponseHeaders(301, -1);
        return;
      }
      if (!allowed(exchange)) {
        refused.incrementAndGet();
        exchange.getResponseHeaders().set("WWW-Authenticate", "Basic realm=\"git\"");
        exchange.sendResponseHeaders(401, -1);
        return;
      }
      byte[] body;
      try (InputStream in = exchange.getRequestBody()) {
        body = in.readAllBytes();
      }
      ProcessBuilder pb = new ProcessBuilder(BACKEND.toString());
      Map<String, String> env = pb.environment();
      env.clear();
      env.put("PATH", "/usr/bin:/bin");
      env.put("GIT_PROJECT_ROOT", root.toString());
      env.put("GIT_HTTP_EXPORT_ALL", "1");
      env.put("REMOTE_USER", "conveyor"); // lets receive-pack (push) run
      env.put("REMOTE_ADDR", "127.0.0.1");
      env.put("REQUEST_METHOD", exchange.getRequestMethod());
      env.put("PATH_INFO", exchange.getRequestURI().getPath().substring("/git".length()));
      env.put("QUERY_STRING", exchange.getRequestURI().getRawQuery() == null ? "" : exchange.getRequestURI().getRawQuery());
      env.put("CONTENT_LENGTH", String.valueOf(body.length));
      String type = exchange.getRequestHeaders().getFirst("Content-Type");
      if (type != null) {
        env.put("CONTENT_TYPE", type);
      }
      String encoding = exchange.getRequestHeaders().getFirst("Content-Encoding");
      if (encoding != null) {
        env.put("HTTP_CONTENT_ENCODING", encoding);
      }
      String protocol = exchange.getRequestHeaders().getFirst("Git-Protocol");
      if (protocol != null) {
        env.put("GIT_PROTOCOL", protocol);
      }
      Process p = pb.redirectError(ProcessBuilder.Redirect.DISCARD).start();
      try (OutputStream in = p.getOutputStream()) {
        in.write(body);
      }
      byte[] out = p.getInputStream().readAllBytes();
      int split = indexOf(out, "\r\n\r\n".getBytes(StandardCharsets.US_ASCII));
      int skip = 4;
      if (split < 0) {
        split = indexOf(out, "\n\n".getBytes(StandardCharsets.US_ASCII));
        skip = 2;
      }
      int status = 200;
      for (String line : new String(out, 0, Math.max(0, split), StandardCharsets.ISO_8859_1).split("\r?\n")) {
        int colon = line.indexOf(':');
        if (colon <= 0) {
          continue;
        }
        String name = line.substring(0, colon).trim();
        String value = line.substring(colon + 1).trim();
        if (name.equalsIgnoreCase("Status")) {
          status = Integer.parseInt(value.split(" ")[0]);
        } else {
          exchange.getResponseHeaders().add(name, value);
        }
      }
      ByteArrayOutputStream payload = new ByteArrayOutputStream();
      payload.write(out, split + skip, out.length - split - skip);
      exchange.sendResponseHeaders(status, payload.size() == 0 ? -1 : payload.size());
      if (payload.size() > 0) {
        try (OutputStream o = exchange.getResponseBody()) {
          payload.writeTo(o);
        }
      }
    }
  }

  private static int indexOf(byte[] data, byte[] pattern) {
    outer:
    for (int i = 0; i + pattern.length <= data.length; i++) {
      for (int j = 0; j < pattern.length; j++) {
        if (data[i + j] != pattern[j]) {
          continue outer;
        }
      }
      return i;
    }
    return -1;
  }

  @Override
  public void close() {
    http.stop(0);
  }
}
