package dev.conveyor.app.web;

import com.sun.net.httpserver.HttpExchange;
import dev.conveyor.reconcile.auth.TokenRoles;
import java.util.List;

/**
 * Who may read the HTTP side. On a loopback address nobody needs to log in (only this machine can
 * connect); elsewhere a request needs a token the gRPC services would accept, as
 * {@code Authorization: Bearer …} (Prometheus, curl) or, for a browser, {@code ?token=…} once, kept
 * in a cookie for the page's own requests.
 */
public final class WebAuth {
  static final String COOKIE = "conveyor_token";
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

  record Decision(boolean allowed, String reason) {}

  Decision check(HttpExchange exchange) {
    if (open) {
      return new Decision(true, null);
    }
    String token = presented(exchange);
    if (token == null) {
      return new Decision(false, "a bearer token is required off loopback: send 'Authorization: Bearer TOKEN'"
          + " or open the page once with ?token=TOKEN");
    }
    try {
      if (roles.rolesOf(token).isEmpty()) {
        return new Decision(false, "the token carries no Conveyor role");
      }
    } catch (RuntimeException e) {
      return new Decision(false, "invalid token: " + e.getMessage());
    }
    String query = exchange.getRequestURI().getRawQuery();
    if (query != null && query.contains("token=")) {
      exchange.getResponseHeaders().add("Set-Cookie", COOKIE + "=" + token + "; HttpOnly; SameSite=Strict; Path=/");
    }
    return new Decision(true, null);
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
