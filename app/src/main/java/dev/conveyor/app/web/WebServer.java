package dev.conveyor.app.web;

import dev.conveyor.reconcile.auth.BearerAuthInterceptor;
import io.javalin.Javalin;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import io.javalin.http.sse.SseClient;
import java.io.IOException;
import java.io.InputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * The node's HTTP side, on Javalin (Jetty): the status page ({@code /} and the pages under it), its snapshot as
 * JSON ({@code /api/status}), the same snapshot pushed as server-sent events ({@code /api/events}), build logs
 * ({@code /api/builds/{id}/log}), Prometheus metrics ({@code /metrics}), and two kinds of writes: CI reports
 * ({@code POST /api/ci/builds/{id}}, {@link CiReportRoute}) and the page's actions ({@code POST
 * /api/actions/{action}}, {@link PageActions}). Every read passes {@link WebAuth} first (viewer role; build logs
 * the role gRPC's {@code BuildLog} needs).
 */
public final class WebServer implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(WebServer.class);
  private static final Map<String, String> ASSETS = Map.of(
      "index.html", "text/html; charset=utf-8", "status.js", "text/javascript; charset=utf-8",
      "status.css", "text/css; charset=utf-8", "pages.js", "text/javascript; charset=utf-8");
  /** Paths the page routes itself (shareable URLs): each serves index.html. */
  private static final String[] PAGES = {"/requests", "/requests/*", "/batches/*", "/captures", "/captures/*",
      "/topics/*", "/builds/*", "/audit"};
  private static final long EVENT_INTERVAL_MS = 1_000;
  /** Open event streams at once; each costs a socket, not a thread. */
  static final int MAX_EVENT_STREAMS = 256;
  private static final int LOG_PAGE = 1 << 20;

  private final Javalin http;
  private final Set<SseClient> streams = ConcurrentHashMap.newKeySet();
  private final Thread pusher;
  private volatile boolean closing;

  /** What the HTTP side serves beyond the page: each may be null (metrics off, no merge queue, …). */
  public record Parts(StatusView status, Supplier<String> metrics,
      dev.conveyor.submitqueue.gateway.ExternalCiService ci, PageActions actions) {}

  private WebServer(Javalin http, StatusView status) {
    this.http = http;
    this.pusher = new Thread(() -> push(status), "web-events");
    pusher.setDaemon(true);
  }

  /** Serves on {@code address} (port 0: any free port). */
  public static WebServer start(InetSocketAddress address, WebAuth auth, Parts parts) {
    WebServer[] self = new WebServer[1];
    Javalin http = Javalin.create(config -> {
      config.startup.showJavalinBanner = false;
      config.startup.showOldJavalinVersionWarning = false;
      config.http.prefer405over404 = true;
      config.jetty.modifyServer(server -> server.setStopTimeout(0));
      var routes = config.routes;
      routes.get("/", guarded(auth, WebAuth.VIEWER, ctx -> asset(ctx, "index.html")));
      for (String name : ASSETS.keySet()) {
        routes.get("/" + name, guarded(auth, WebAuth.VIEWER, ctx -> asset(ctx, name)));
      }
      for (String page : PAGES) {
        routes.get(page, guarded(auth, WebAuth.VIEWER, ctx -> asset(ctx, "index.html")));
      }
      routes.get("/api/status", guarded(auth, WebAuth.VIEWER,
          ctx -> send(ctx, 200, "application/json", parts.status().json())));
      routes.get("/api/events", guarded(auth, WebAuth.VIEWER, ctx -> self[0].openStream(ctx, parts.status())));
      routes.get("/api/builds/{id}/log", guarded(auth, BearerAuthInterceptor.SUBMITQUEUE_ROLE,
          ctx -> buildLog(ctx, parts.status())));
      if (parts.metrics() != null) {
        routes.get("/metrics", guarded(auth, WebAuth.VIEWER,
            ctx -> send(ctx, 200, "text/plain; version=0.0.4; charset=utf-8", parts.metrics().get())));
      }
      if (parts.ci() != null) {
        CiReportRoute route = new CiReportRoute(auth, parts.ci());
        routes.post(CiReportRoute.PREFIX + "{id}", written(route::handle));
      }
      if (parts.actions() != null) {
        parts.actions().register(routes, auth, WebServer::guarded, WebServer::written);
        new PageReads(parts.status(), parts.actions().targets()).register(routes, auth, WebServer::guarded);
      }
    });
    WebServer web = new WebServer(http, parts.status());
    self[0] = web;
    http.start(address.getHostString(), address.getPort());
    web.pusher.start();
    return web;
  }

  public int port() {
    return http.port();
  }

  /** A route for readers: checked against {@code role}, failures answered in one line. */
  static Handler guarded(WebAuth auth, String role, Handler handler) {
    return ctx -> {
      if (auth.check(ctx, role) instanceof WebAuth.Refused refused) {
        refuse(ctx, refused);
      } else {
        handled(ctx, handler);
      }
    };
  }

  /** A route that writes: its own checks, the same failure handling as reads. */
  static Handler written(Handler handler) {
    return ctx -> handled(ctx, handler);
  }

  static void refuse(Context ctx, WebAuth.Refused refused) {
    if (refused.status() == 401) {
      ctx.header("WWW-Authenticate", "Bearer realm=\"conveyor\"");
    }
    send(ctx, refused.status(), "text/plain", refused.reason() + "\n");
  }

  private static void handled(Context ctx, Handler handler) {
    try {
      handler.handle(ctx);
    } catch (IOException e) {
      log.debug("web client went away: {}", e.getMessage());
    } catch (PageReads.BadParameter e) {
      PageReads.refuse(ctx, e);
    } catch (Exception | Error e) {
      // an Error ends this request only, logged; the client gets one line, never a stack trace
      if (e instanceof Error) {
        log.error("{} failed", ctx.path(), e);
      } else {
        log.warn("{} failed: {}", ctx.path(), e.getMessage());
      }
      send(ctx, 503, "text/plain", "unavailable: " + e.getMessage() + "\n");
    }
  }

  private static void asset(Context ctx, String name) throws IOException {
    try (InputStream in = WebServer.class.getResourceAsStream("/status/" + name)) {
      if (in == null) {
        throw new IllegalStateException("status page asset " + name + " is missing from this build");
      }
      ctx.header("X-Content-Type-Options", "nosniff");
      // the page may not be framed by another site (clickjacking an action button)
      ctx.header("X-Frame-Options", "DENY");
      ctx.header("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'; form-action 'self'");
      send(ctx, 200, ASSETS.get(name), new String(in.readAllBytes(), StandardCharsets.UTF_8));
    }
  }

  /**
   * {@code /api/builds/{id}/log[?offset=N]}: up to {@value #LOG_PAGE} characters of a build's stored output
   * (secrets masked when stored) as plain text, never rendered, with the next offset and whether the build
   * ended in headers; a page follows a running build by asking again from the next offset.
   */
  private static void buildLog(Context ctx, StatusView status) {
    String id = ctx.pathParam("id");
    if (id.isEmpty() || id.length() > 512 || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '/')) {
      send(ctx, 400, "text/plain", "invalid build id: at most 512 printable ASCII characters\n");
      return;
    }
    long offset = 0;
    String given = ctx.queryParam("offset");
    if (given != null) {
      try {
        offset = Long.parseLong(given);
      } catch (NumberFormatException e) {
        offset = -1;
      }
      if (offset < 0) {
        send(ctx, 400, "text/plain", "invalid offset: a character offset of at least 0\n");
        return;
      }
    }
    var page = status.buildLog(id, offset, LOG_PAGE);
    if (page.isEmpty()) {
      send(ctx, 404, "text/plain", "no build '" + id + "'\n");
      return;
    }
    ctx.header("X-Content-Type-Options", "nosniff");
    ctx.header("X-Next-Offset", String.valueOf(page.get().nextOffset()));
    ctx.header("X-Total", String.valueOf(page.get().total()));
    ctx.header("X-Build-Finished", String.valueOf(page.get().finished()));
    send(ctx, 200, "text/plain; charset=utf-8", page.get().text());
  }

  /** Registers an event stream, answered by {@link #push}; past {@value #MAX_EVENT_STREAMS}, 503. */
  private void openStream(Context ctx, StatusView status) throws Exception {
    if (streams.size() >= MAX_EVENT_STREAMS) {
      send(ctx, 503, "text/plain", "too many open event streams; the page falls back to polling\n");
      return;
    }
    new io.javalin.http.sse.SseHandler(client -> {
      streams.add(client);
      client.onClose(() -> streams.remove(client));
      client.keepAlive();
      client.sendEvent("status", status.json());
    }).handle(ctx);
  }

  /**
   * Once a second: the snapshot to every stream when it changed, else a comment that notices closed pages; every
   * ten seconds, a sample of each topic's lag for the topic pages.
   */
  private void push(StatusView status) {
    String last = null;
    long sampled = 0;
    while (!closing) {
      try {
        Thread.sleep(EVENT_INTERVAL_MS);
        if (System.currentTimeMillis() - sampled >= LagHistory.INTERVAL_MS) {
          sampled = System.currentTimeMillis();
          status.sampleLag();
        }
        if (streams.isEmpty()) {
          continue;
        }
        String snapshot = status.json();
        boolean changed = !snapshot.equals(last);
        last = snapshot;
        for (SseClient c : streams) {
          if (c.terminated()) {
            streams.remove(c);
          } else if (changed) {
            c.sendEvent("status", snapshot);
          } else {
            c.sendComment("idle");
          }
        }
      } catch (InterruptedException e) {
        if (!closing) {
          log.warn("status events stopped: interrupted while the server runs; pages fall back to polling");
        }
        return;
      } catch (RuntimeException | Error e) {
        // a failing ledger or a bug in one snapshot must not end the pushes for good: the next second tries again
        log.warn("status events: {}", e.toString());
      }
    }
  }

  static void send(Context ctx, int code, String type, String body) {
    ctx.status(code).contentType(type).result(body);
  }

  @Override
  public void close() {
    closing = true;
    pusher.interrupt();
    for (SseClient c : streams) {
      c.close();
    }
    http.stop();
  }
}
