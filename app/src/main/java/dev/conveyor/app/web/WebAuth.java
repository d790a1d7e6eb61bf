package dev.conveyor.app.web;

import dev.conveyor.reconcile.auth.BearerAuthInterceptor;
import dev.conveyor.reconcile.auth.TokenRoles;
import io.javalin.http.Context;
import java.util.Set;

/**
 * Who may read the HTTP side: the one place every route (page, {@code /api/*}, {@code /metrics}, build
 * logs) is checked. On a loopback address nobody needs to log in (only this machine can connect),
 * but the Host header must name a loopback address or {@code localhost}, so a page of another site
 * cannot read it through a browser by DNS rebinding; elsewhere a request needs a token the gRPC services would accept, as {@code Authorization: Bearer …}
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
  record Refused(int status, String reason) implements Decision, Identity {}

  Decision check(Context ctx, String role) {
    if (open) {
      String host = ctx.header("Host");
      if (!loopbackHost(host)) {
        return new Refused(403, "this server is open on loopback only, and the Host header names '"
            + printable(host) + "', not a loopback address (a page of another site reaching it by DNS"
            + " rebinding); open http://127.0.0.1:PORT/ or bind elsewhere and use a token");
      }
      rememberQueryToken(ctx);
      return new Allowed();
    }
    String token = presented(ctx, true);
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
    if (ctx.queryParam("token") != null) {
      setCookie(ctx, token);
    }
    return new Allowed();
  }

  /**
   * On an open (loopback) page, a {@code ?token=} that is valid is still kept in the cookie: reading needs no
   * login there, but acting does ({@link #identify}).
   */
  private void rememberQueryToken(Context ctx) {
    String token = ctx.queryParam("token");
    if (token == null || token.isEmpty() || roles == null) {
      return;
    }
    try {
      roles.rolesOf(token);
      setCookie(ctx, token);
    } catch (RuntimeException e) {
      // an invalid token is not kept; reading stays open, acting will say what is missing
    }
  }

  private static void setCookie(Context ctx, String token) {
    ctx.res().addHeader("Set-Cookie", COOKIE + "=" + token + "; HttpOnly; SameSite=Strict; Path=/");
  }

  /** Who acts from the page, and what they may do. */
  sealed interface Identity permits Caller, Refused {}

  /**
   * An identified caller: the token's subject and roles, and {@code session}, a digest of the token that
   * CSRF tokens are bound to ("open" without auth).
   */
  record Caller(String subject, Set<String> roles, String session) implements Identity {
    boolean may(String role) {
      return BearerAuthInterceptor.grants(roles, role);
    }
  }

  /**
   * The caller of a page action. With tokens in use, one is needed on loopback too (header or the page's
   * cookie); without auth (a loopback-only server) the caller is this machine's user with every role, and the
   * Host must name a loopback address.
   */
  Identity identify(Context ctx) {
    if (roles == null) {
      return loopbackHost(ctx.header("Host"))
          ? new Caller("loopback (auth none)", Set.of(BearerAuthInterceptor.ADMIN_ROLE,
              BearerAuthInterceptor.SUBMITQUEUE_ROLE, VIEWER), "open")
          : new Refused(403, "the Host header does not name a loopback address");
    }
    String token = presented(ctx, false);
    if (token == null || token.isEmpty()) {
      return new Refused(401, "sign in to act: open the page once with ?token=TOKEN (a token with the"
          + " action's role), or send 'Authorization: Bearer TOKEN'");
    }
    try {
      return new Caller(roles.subjectOf(token), roles.rolesOf(token), sha256(token));
    } catch (RuntimeException e) {
      return new Refused(401, "invalid token: " + e.getMessage());
    }
  }

  static String sha256(String s) {
    try {
      return java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
          .digest(s.getBytes(java.nio.charset.StandardCharsets.UTF_8)));
    } catch (java.security.NoSuchAlgorithmException e) {
      throw new IllegalStateException(e);
    }
  }

  /**
   * For a route that writes, called by programs (CI): with tokens in use, one must come in the
   * {@code Authorization} header (never a cookie or the query, which a browser could be made to send
   * from another site) and carry {@code role}, on loopback too; without tokens (auth none, which serves
   * loopback only) the Host must name a loopback address.
   */
  Decision checkWriter(Context ctx, String role) {
    if (roles == null) {
      return loopbackHost(ctx.header("Host")) ? new Allowed()
          : new Refused(403, "the Host header does not name a loopback address");
    }
    String header = ctx.header("Authorization");
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.substring(7).isBlank()) {
      return new Refused(401, "send a token with the " + role + " role as 'Authorization: Bearer TOKEN'");
    }
    Set<String> held;
    try {
      held = roles.rolesOf(header.substring(7).trim());
    } catch (RuntimeException e) {
      return new Refused(401, "invalid token: " + e.getMessage());
    }
    return BearerAuthInterceptor.grants(held, role) ? new Allowed()
        : new Refused(403, "the token lacks the role " + role);
  }

  /**
   * Whether a Host header names this machine by a loopback literal or {@code localhost}: a browser
   * sends the name it resolved, so a foreign name means a foreign page (DNS rebinding). No Host at all
   * (HTTP/1.0, scripts) is not a browser's request. Names are never resolved here.
   */
  static boolean loopbackHost(String host) {
    if (host == null) {
      return true;
    }
    String h = host.trim().toLowerCase(java.util.Locale.ROOT);
    if (h.startsWith("[")) {
      int end = h.indexOf(']');
      return end > 0 && h.substring(1, end).equals("::1") && (end == h.length() - 1 || port(h.substring(end + 1)));
    }
    int colon = h.indexOf(':');
    if (colon >= 0) {
      if (!port(h.substring(colon))) {
        return false;
      }
      h = h.substring(0, colon);
    }
    return h.equals("localhost") || h.matches("127\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)(\\.(25[0-5]|2[0-4]\\d|1?\\d?\\d)){2}");
  }

  private static boolean port(String colonAndPort) {
    return colonAndPort.matches(":\\d{1,5}");
  }

  private static String printable(String s) {
    String v = s.length() > 100 ? s.substring(0, 100) + "…" : s;
    return v.replaceAll("[^\\x20-\\x7e…]", "?");
  }

  /** The token a request presents: the header, then (for reads) {@code ?token=}, then the page's cookie. */
  private static String presented(Context ctx, boolean query) {
    String header = ctx.header("Authorization");
    if (header != null && header.regionMatches(true, 0, "Bearer ", 0, 7)) {
      return header.substring(7).trim();
    }
    if (query && ctx.queryParam("token") != null) {
      return ctx.queryParam("token");
    }
    return ctx.cookie(COOKIE);
  }
}
