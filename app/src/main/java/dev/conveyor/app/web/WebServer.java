package dev.conveyor.app.web;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpHandler;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP side: read-only but for CI reports ({@code POST /api/ci/builds/{id}}, {@link CiReportRoute}):
 * the status page ({@code /}), its snapshot as JSON
 * ({@code /api/status}), the same snapshot pushed as server-sent events ({@code /api/events}), build
 * logs ({@code /api/builds/{id}/log}) and Prometheus metrics ({@code /metrics}). Every route passes
 * {@link WebAuth} first (viewer role).
 */
public final class WebServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebServer.class);
  private static final Map<String, String> ASSETS = Map.of(
      "/", "index.html", "/index.html", "index.html", "/status.js", "status.js", "/status.css", "status.css");
  private static final long EVENT_INTERVAL_MS = 1_000;
  private static final int LOG_PAGE = 1 << 20;

  private final HttpServer http;
  private final ExecutorService threads;
  private final java.util.concurrent.CountDownLatch closing = new java.util.concurrent.CountDownLatch(1);

  private WebServer(HttpServer http, ExecutorService threads) {
    this.http = http;
    this.threads = threads;
  }

  /**
   * Serves on {@code address} (port 0: any free port). {@code metrics} renders the Prometheus text,
   * or is null when metrics are off.
   */
  public static WebServer start(InetSocketAddress address, WebAuth auth, StatusView status,
      Supplier<String> metrics) throws IOException {
    return start(address, auth, status, metrics, null);
  }

  /** With {@code ci} (or null), CI reports are taken at {@code POST /api/ci/builds/{id}} ({@link CiReportRoute}). */
  public static WebServer start(InetSocketAddress address, WebAuth auth, StatusView status,
      Supplier<String> metrics, dev.conveyor.submitqueue.gateway.ExternalCiService ci) throws IOException {
    HttpServer http = HttpServer.create(address, 0);
    // server-sent event streams hold a thread each for as long as a page is open
    ExecutorService threads = Executors.newCachedThreadPool(r -> {
      Thread t = new Thread(r, "web");
      t.setDaemon(true);
      return t;
    });
    http.setExecutor(threads);
    WebServer web = new WebServer(http, threads);
    http.createContext("/", guarded(auth, web::asset));
    http.createContext("/api/status", guarded(auth, ex -> send(ex, 200, "application/json", status.json())));
    http.createContext("/api/events", guarded(auth, ex -> web.events(ex, status)));
    http.createContext("/api/builds/", guarded(auth, ex -> buildLog(ex, status)));
    if (ci != null) {
      CiReportRoute route = new CiReportRoute(auth, ci);
      http.createContext(CiReportRoute.PREFIX, exchange -> written(exchange, route));
    }
    if (metrics != null) {
      http.createContext("/metrics", guarded(auth, ex -> send(ex, 200, "text/plain; version=0.0.4; charset=utf-8",
          metrics.get())));
    }
    http.start();
    return web;
  }

  public int port() {
    return http.getAddress().getPort();
  }

  /** A read-only route for viewers: every route but a health check goes through here. */
  private static HttpHandler guarded(WebAuth auth, HttpHandler handler) {
    return guarded(auth, WebAuth.VIEWER, handler);
  }

  private static HttpHandler guarded(WebAuth auth, String role, HttpHandler handler) {
    return exchange -> {
      try {
        if (!"GET".equals(exchange.getRequestMethod()) && !"HEAD".equals(exchange.getRequestMethod())) {
          send(exchange, 405, "text/plain", "read-only: only GET is served\n");
          return;
        }
        if (auth.check(exchange, role) instanceof WebAuth.Refused refused) {
          if (refused.status() == 401) {
            exchange.getResponseHeaders().set("WWW-Authenticate", "Bearer realm=\"conveyor\"");
          }
          send(exchange, refused.status(), "text/plain", refused.reason() + "\n");
        } else {
          handler.handle(exchange);
        }
      } catch (IOException e) {
        log.debug("web client went away: {}", e.getMessage());
      } catch (RuntimeException | Error e) {
        // an Error ends this request only; the server's dispatcher would otherwise drop it unlogged
        if (e instanceof Error) {
          log.error("{} failed", exchange.getRequestURI().getPath(), e);
        } else {
          log.warn("{} failed: {}", exchange.getRequestURI().getPath(), e.getMessage());
        }
        try {
          send(exchange, 503, "text/plain", "unavailable: " + e.getMessage() + "\n");
        } catch (IOException | RuntimeException ignored) {
          // the response was already started; the client sees a cut stream
        }
      } finally {
        exchange.close();
      }
    };
  }

  /** The one route that writes: its own checks ({@link CiReportRoute}), the same failure handling as reads. */
  private static void written(HttpExchange exchange, CiReportRoute route) {
    try {
      route.handle(exchange);
    } catch (IOException e) {
      log.debug("web client went away: {}", e.getMessage());
    } catch (RuntimeException e) {
      log.warn("{} failed: {}", exchange.getRequestURI().getPath(), e.getMessage());
      try {
        send(exchange, 503, "text/plain", "unavailable: " + e.getMessage() + "\n");
      } catch (IOException | RuntimeException ignored) {
        // the response was already started
      }
    } finally {
      exchange.close();
    }
  }

  private void asset(HttpExchange exchange) throws IOException {
    String name = ASSETS.get(exchange.getRequestURI().getPath());
    if (name == null) {
      send(exchange, 404, "text/plain", "not found: " + exchange.getRequestURI().getPath() + "\n");
      return;
    }
    try (InputStream in = WebServer.class.getResourceAsStream("/status/" + name)) {
      if (in == null) {
        throw new IllegalStateException("status page asset " + name + " is missing from this build");
      }
      String type = name.endsWith(".html") ? "text/html; charset=utf-8"
          : name.endsWith(".js") ? "text/javascript; charset=utf-8" : "text/css; charset=utf-8";
      send(exchange, 200, type, new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  /**
   * {@code /api/builds/{id}/log[?offset=N]}: up to {@value #LOG_PAGE} characters of a build's stored
   * output as plain text (never rendered), with the next offset and whether the build ended in headers.
   */
  private static void buildLog(HttpExchange exchange, StatusView status) throws IOException {
    String path = exchange.getRequestURI().getPath();
    String id = path.substring("/api/builds/".length());
    if (!id.endsWith("/log") || id.length() == 4) {
      send(exchange, 404, "text/plain", "not found: " + path + " (build logs are at /api/builds/ID/log)\n");
      return;
    }
    id = id.substring(0, id.length() - 4);
    if (id.length() > 512 || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '/')) {
      send(exchange, 400, "text/plain", "invalid build id: at most 512 printable ASCII characters\n");
      return;
    }
    long offset = 0;
    String query = exchange.getRequestURI().getRawQuery();
    if (query != null && query.startsWith("offset=")) {
      try {
        offset = Long.parseLong(query.substring(7));
      } catch (NumberFormatException e) {
        offset = -1;
      }
      if (offset < 0) {
        send(exchange, 400, "text/plain", "invalid offset: a character offset of at least 0\n");
        return;
      }
    }
    var page = status.buildLog(id, offset, LOG_PAGE);
    if (page.isEmpty()) {
      send(exchange, 404, "text/plain", "no build '" + id + "'\n");
      return;
    }
    exchange.getResponseHeaders().set("X-Content-Type-Options", "nosniff");
    exchange.getResponseHeaders().set("X-Next-Offset", String.valueOf(page.get().nextOffset()));
    exchange.getResponseHeaders().set("X-Total", String.valueOf(page.get().total()));
    exchange.getResponseHeaders().set("X-Build-Finished", String.valueOf(page.get().finished()));
    send(exchange, 200, "text/plain; charset=utf-8", page.get().text());
  }

  private void events(HttpExchange exchange, StatusView status) throws IOException {
    exchange.getResponseHeaders().set("Content-Type", "text/event-stream; charset=utf-8");
    exchange.getResponseHeaders().set("Cache-Control", "no-cache");
    exchange.sendResponseHeaders(200, 0);
    OutputStream out = exchange.getResponseBody();
    String last = null;
    while (closing.getCount() > 0) {
      String snapshot = status.json();
      if (!snapshot.equals(last)) {
        out.write(("event: status\ndata: " + snapshot + "\n\n").getBytes(StandardCharsets.UTF_8));
        last = snapshot;
      } else {
        out.write(": idle\n\n".getBytes(StandardCharsets.UTF_8)); // notices a closed page
      }
      out.flush();
      try {
        if (closing.await(EVENT_INTERVAL_MS, java.util.concurrent.TimeUnit.MILLISECONDS)) {
          return; // the push cadence; a closing server ends every stream at once
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        return;
      }
    }
  }

  static void send(HttpExchange exchange, int code, String type, String body) throws IOException {
    byte[] bytes = body.getBytes(StandardCharsets.UTF_8);
    exchange.getResponseHeaders().set("Content-Type", type);
    if ("HEAD".equals(exchange.getRequestMethod())) {
      exchange.sendResponseHeaders(code, -1);
      return;
    }
    exchange.sendResponseHeaders(code, bytes.length);
    try (OutputStream out = exchange.getResponseBody()) {
      out.write(bytes);
    }
  }

  @Override
  public void close() {
    closing.countDown();
    http.stop(0);
    threads.shutdownNow();
  }
}
