package dev.conveyor.app.web;

import com.sun.net.httpserver.HttpExchange;
import dev.conveyor.reconcile.auth.BearerAuthInterceptor;
import dev.conveyor.reconcile.auth.TokenRoles;
import java.util.List;
import java.util.Set;

/**
 * Who may read the HTTP side: the one place every route (page, {@code /api/*}, {@code /metrics}, build
 * logs) is checked. On a loopback address nobody needs to log in (only this machine can connect);
 * elsewhere a request needs a token the gRPC services would accept, as {@code Authorization: Bearer …}
 * (Prometheus, curl) or, for a browser, {@code ?token=…} once, kept in a cookie for the page's own
 * requests — and the token must carry the route's role ({@code conveyor-viewer}, which
 * {@code reconcile-admin} and {@code submitqueue-user} imply). No token or an invalid one is 401, a valid
 * token without the role 403, each with a one-line reason.
 */
public final class WebAuth {
  static final String COOKIE = "conveyor_token";
  /** The role every read-only route requires. */
  public static final String VIEWER = BearerAuthInterceptor.VIEWER_ROLE;
  private final boolean open;
  private final TokenRoles roles;

  private WebAuth(boolean open, TokenRoles roles) {
    this.open = open;
    this.roles = roles;
  }

  /** Loopback binds and servers without auth are open; anything else checks tokens with {@code roles}. */
  public static WebAuth of(boolean loopback, TokenRoles roles) {
    return new WebAuth(loopback || roles == null, roles);
  }

  /** The answer for one request. */
  sealed interface Decision permits Allowed, Refused {}

  record Allowed() implements Decision {}

  /** {@code status} is 401 (no or invalid token) or 403 (valid token without the role). */
  record Refused(int status, String reason) implements Decision {}

  Decision check(HttpExchange exchange, String role) {
    if (open) {
      return new Allowed();
    }
    String token = presented(exchange);
    if (token == null || token.isEmpty()) {
      return new Refused(401, "a bearer token is required off loopback: send 'Authorization: Bearer TOKEN'"
          + " or open the page once with ?token=TOKEN");
    }
    Set<String> held;
    try {
      held = roles.rolesOf(token);
    } catch (RuntimeException e) {
      return new Refused(401, "invalid token: " + e.getMessage());
    }
    if (!BearerAuthInterceptor.grants(held, role)) {
      return new Refused(403, "the token lacks the role " + role + " (or reconcile-admin or submitqueue-user,"
          + " which imply it)");
    }
    String query = exchange.getRequestURI().getRawQuery();
    if (query != null && query.contains("token=")) {
      exchange.getResponseHeaders().add("Set-Cookie", COOKIE + "=" + token + "; HttpOnly; SameSite=Strict; Path=/");
    }
    return new Allowed();
  }

  private static String presented(HttpExchange exchange) {
    String header = exchange.getRequestHeaders().getFirst("Authorization");
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return header.substring(7).trim();
    }
    String query = exchange.getRequestURI().getRawQuery();
    if (query != null) {
      for (String pair : query.split("&")) {
        if (pair.startsWith("token=")) {
          return java.net.URLDecoder.decode(pair.substring(6), java.nio.charset.StandardCharsets.UTF_8);
        }
      }
    }
    for (String cookies : exchange.getRequestHeaders().getOrDefault("Cookie", List.of())) {
      for (String c : cookies.split(";")) {
        String kv = c.trim();
        if (kv.startsWith(COOKIE + "=")) {
          return kv.substring(COOKIE.length() + 1);
        }
      }
    }
    return null;
  }
}
