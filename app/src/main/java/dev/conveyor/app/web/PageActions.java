package dev.conveyor.app.web;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.api.ErrorStatus;
import dev.conveyor.app.audit.AuditLog;
import dev.conveyor.reconcile.auth.BearerAuthInterceptor;
import io.grpc.StatusRuntimeException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import io.javalin.http.Handler;
import java.io.IOException;
import java.io.InputStream;
import java.util.Iterator;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * What an operator can do from the status page: {@code POST /api/actions/{action}} with a JSON body. Each action
 * is checked against the role its gRPC call needs ({@link BearerAuthInterceptor#SERVICE_ROLES}; dead letters, which
 * have no gRPC service, need the administrators' role), refused when it comes from another site (its
 * {@code Origin} or {@code Sec-Fetch-Site}, and a page token — {@code X-Conveyor-Csrf}, from {@code GET
 * /api/session} — that a page of another site can neither read nor send without a preflight this server never
 * grants), and recorded in the {@link AuditLog} with who, what, when and how it ended. Refusals of a caller who
 * presented a valid token are recorded too; anonymous ones are not (no one to name, and no row for a stranger to
 * fill the log with).
 */
public final class PageActions {
  public static final String CSRF_HEADER = "X-Conveyor-Csrf";
  static final int MAX_BODY = 16 * 1024;
  private static final ObjectMapper JSON = new ObjectMapper();

  private final AuditLog audit;
  private final ActionTargets targets;
  private final Csrf csrf = Csrf.random();

  public PageActions(AuditLog audit, ActionTargets targets) {
    this.audit = audit;
    this.targets = targets;
  }

  ActionTargets targets() {
    return targets;
  }

  /** The actions, by the name in their URL, and the role each needs. */
  enum Action {
    CANCEL_REQUEST("cancel-request", BearerAuthInterceptor.SERVICE_ROLES.get("conveyor.submitqueue.Gateway")),
    PAUSE_QUEUE("pause-queue", BearerAuthInterceptor.SERVICE_ROLES.get("conveyor.submitqueue.QueueControl")),
    RESUME_QUEUE("resume-queue", BearerAuthInterceptor.SERVICE_ROLES.get("conveyor.submitqueue.QueueControl")),
    DRAIN_QUEUE("drain-queue", BearerAuthInterceptor.SERVICE_ROLES.get("conveyor.submitqueue.QueueControl")),
    REDRIVE_DEAD_LETTER("redrive-dead-letter", BearerAuthInterceptor.ADMIN_ROLE),
    DISCARD_DEAD_LETTER("discard-dead-letter", BearerAuthInterceptor.ADMIN_ROLE),
    CANCEL_CAPTURE("cancel-capture", BearerAuthInterceptor.SERVICE_ROLES.get("conveyor.reconcile.ReconcileControl"));

    final String path;
    final String role;

    Action(String path, String role) {
      this.path = path;
      this.role = role;
    }

    static Optional<Action> of(String path) {
      for (Action a : values()) {
        if (a.path.equals(path)) {
          return Optional.of(a);
        }
      }
      return Optional.empty();
    }
  }

  /** How the server wraps a route: {@code guarded} for reads by role, {@code written} for writes. */
  interface Guard {
    Handler guarded(WebAuth auth, String role, Handler handler);
  }

  void register(RoutesConfig routes, WebAuth auth, Guard reads, java.util.function.UnaryOperator<Handler> writes) {
    routes.get("/api/session", reads.guarded(auth, WebAuth.VIEWER, ctx -> session(ctx, auth)));
    routes.get("/api/audit", reads.guarded(auth, WebAuth.VIEWER, this::auditPage));
    routes.post("/api/actions/{action}", writes.apply(ctx -> act(ctx, auth)));
  }

  /**
   * Who the page acts as: the subject, roles, which actions they may take, and the page token actions must
   * carry. Readable only by the page's own origin (no CORS), so another site never learns the token.
   */
  private void session(Context ctx, WebAuth auth) {
    ctx.header("Cache-Control", "no-store");
    ObjectNode out = JSON.createObjectNode();
    WebAuth.Identity identity = auth.identify(ctx);
    if (identity instanceof WebAuth.Caller caller) {
      out.put("signedIn", true);
      out.put("subject", caller.subject());
      out.set("roles", JSON.valueToTree(caller.roles().stream().sorted().toList()));
      ObjectNode may = out.putObject("may");
      for (Action a : Action.values()) {
        may.put(a.path, caller.may(a.role) && targets.offers(a));
      }
      out.put("csrf", csrf.tokenFor(caller.session()));
    } else if (identity instanceof WebAuth.Refused refused) {
      out.put("signedIn", false);
      out.put("reason", refused.reason());
    }
    WebServer.send(ctx, 200, "application/json", out.toString());
  }

  /** {@code GET /api/audit?before=CURSOR&limit=N}: a page of the audit log, newest first. */
  private void auditPage(Context ctx) {
    int limit;
    try {
      limit = ctx.queryParam("limit") == null ? 50 : Integer.parseInt(ctx.queryParam("limit"));
      AuditLog.Page page = audit.page(Optional.ofNullable(ctx.queryParam("before")), limit);
      ObjectNode out = JSON.createObjectNode();
      var entries = out.putArray("entries");
      for (AuditLog.Entry e : page.entries()) {
        ObjectNode n = entries.addObject();
        n.put("at", e.atMs());
        n.put("actor", e.actor());
        n.put("action", e.action());
        n.put("target", e.target());
        n.put("outcome", e.outcome().name().toLowerCase(Locale.ROOT));
        n.put("detail", e.detail());
      }
      page.next().ifPresent(n -> out.put("next", n));
      WebServer.send(ctx, 200, "application/json", out.toString());
    } catch (IllegalArgumentException e) { // NumberFormatException too
      WebServer.send(ctx, 400, "text/plain", "invalid " + (e instanceof NumberFormatException ? "limit: a number"
          : e.getMessage()) + "\n");
    }
  }

  private void act(Context ctx, WebAuth auth) throws IOException {
    Optional<Action> named = Action.of(ctx.pathParam("action"));
    if (named.isEmpty()) {
      WebServer.send(ctx, 404, "text/plain", "no action '" + printable(ctx.pathParam("action"))
          + "' here; actions: " + java.util.Arrays.stream(Action.values()).map(a -> a.path).toList() + "\n");
      return;
    }
    Action action = named.get();
    WebAuth.Identity identity = auth.identify(ctx);
    if (identity instanceof WebAuth.Refused refused) {
      WebServer.refuse(ctx, refused);
      return;
    }
    WebAuth.Caller caller = (WebAuth.Caller) identity;
    String crossSite = crossSite(ctx);
    if (crossSite != null) {
      refuse(ctx, caller, action, "-", 403, "cross-site request refused: " + crossSite);
      return;
    }
    if (!csrf.matches(caller.session(), ctx.header(CSRF_HEADER))) {
      refuse(ctx, caller, action, "-", 403, "missing or stale page token (" + CSRF_HEADER
          + "): reload the page and try again");
      return;
    }
    String type = ctx.header("Content-Type");
    if (type == null || !type.toLowerCase(Locale.ROOT).startsWith("application/json")) {
      refuse(ctx, caller, action, "-", 415, "send the action as JSON (Content-Type: application/json)");
      return;
    }
    JsonNode body;
    try (InputStream in = ctx.bodyInputStream()) {
      byte[] bytes = in.readNBytes(MAX_BODY + 1);
      if (bytes.length > MAX_BODY) {
        refuse(ctx, caller, action, "-", 413, "the action is larger than " + MAX_BODY + " bytes");
        return;
      }
      body = JSON.readTree(bytes);
    } catch (com.fasterxml.jackson.core.JsonProcessingException e) {
      refuse(ctx, caller, action, "-", 400, "not JSON: " + e.getOriginalMessage());
      return;
    }
    ActionTargets.Request request;
    try {
      request = ActionTargets.Request.parse(action, body);
    } catch (IllegalArgumentException e) {
      refuse(ctx, caller, action, "-", 400, e.getMessage());
      return;
    }
    if (!caller.may(action.role)) {
      refuse(ctx, caller, action, request.target(), 403, "the token lacks the role " + action.role + " that "
          + action.path + " needs");
      return;
    }
    if (!targets.offers(action)) {
      refuse(ctx, caller, action, request.target(), 404, action.path + " is not offered by this node"
          + " (no merge queue runs here)");
      return;
    }
    try {
      String done = targets.perform(action, request, caller.subject());
      audit.record(caller.subject(), action.path, request.target(), AuditLog.Outcome.DONE, done);
      ObjectNode out = JSON.createObjectNode();
      out.put("ok", true);
      out.put("message", done);
      WebServer.send(ctx, 200, "application/json", out.toString());
    } catch (StatusRuntimeException e) {
      String reason = ErrorStatus.reasonOf(e);
      String message = e.getStatus().getCode() + (reason == null ? "" : " " + reason) + ": "
          + e.getStatus().getDescription();
      audit.record(caller.subject(), action.path, request.target(), AuditLog.Outcome.FAILED, message);
      answer(ctx, CiReportRoute.httpStatus(e.getStatus().getCode()), e.getStatus().getCode().name(), reason,
          e.getStatus().getDescription());
    } catch (IllegalArgumentException e) {
      audit.record(caller.subject(), action.path, request.target(), AuditLog.Outcome.FAILED, e.getMessage());
      answer(ctx, 404, "NOT_FOUND", null, e.getMessage());
    }
  }

  /** Why a request comes from another site, or null: a browser names the origin of the page that sent it. */
  static String crossSite(Context ctx) {
    String fetchSite = ctx.header("Sec-Fetch-Site");
    if (fetchSite != null && !fetchSite.equals("same-origin")) {
      return "Sec-Fetch-Site is " + fetchSite;
    }
    String origin = ctx.header("Origin");
    String host = ctx.header("Host");
    if (origin != null && (host == null || !(origin.equalsIgnoreCase("http://" + host)
        || origin.equalsIgnoreCase("https://" + host)))) {
      return "the page at " + printable(origin) + " is not this server's";
    }
    return null;
  }

  private void refuse(Context ctx, WebAuth.Caller caller, Action action, String target, int status, String why) {
    audit.record(caller.subject(), action.path, target, AuditLog.Outcome.REFUSED, status + ": " + why);
    answer(ctx, status, status == 403 ? "PERMISSION_DENIED" : "INVALID_ARGUMENT", null, why);
  }

  private static void answer(Context ctx, int status, String error, String reason, String message) {
    ObjectNode out = JSON.createObjectNode();
    out.put("ok", false);
    out.put("error", error);
    if (reason != null) {
      out.put("reason", reason);
    }
    out.put("message", message);
    WebServer.send(ctx, status, "application/json", out.toString());
  }

  private static String printable(String s) {
    String v = s.length() > 100 ? s.substring(0, 100) + "…" : s;
    return v.replaceAll("[^\\x20-\\x7e…]", "?");
  }

  static Set<String> fieldNames(JsonNode body) {
    Set<String> names = new java.util.TreeSet<>();
    for (Iterator<String> it = body.fieldNames(); it.hasNext(); ) {
      names.add(it.next());
    }
    return names;
  }
}
