package dev.conveyor.app.web;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ObjectNode;
import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.reconcile.GetJobTreeRequest;
import dev.conveyor.api.reconcile.ListFileStatsRequest;
import dev.conveyor.api.submitqueue.HistoryRequest;
import dev.conveyor.api.submitqueue.ListRequest;
import dev.conveyor.api.submitqueue.RequestInfo;
import dev.conveyor.api.submitqueue.StatusRequest;
import io.grpc.StatusRuntimeException;
import io.javalin.config.RoutesConfig;
import io.javalin.http.Context;
import java.util.Locale;
import java.util.Optional;

/**
 * The JSON behind the pages a person navigates, each a shareable URL: requests of a queue filtered by state and
 * paged ({@code /api/requests?queue=&state=&page_token=}), one request ({@code /api/requests/{queue}/{n}}: its
 * status, batch, builds and history with effects — the gateway's own answers, in its JSON), one batch
 * ({@code /api/batches/{id}}), captures filtered by table and state and paged ({@code /api/captures?table=&state=
 * &before=}), one capture ({@code /api/captures/{id}}: the job tree and a page of per-file statistics), and one
 * topic ({@code /api/topics/{topic}?before=}: groups, lag over the last hour, a page of dead letters). Each is read
 * by viewers, like the snapshot; service refusals keep their status and reason.
 */
final class PageReads {
  static final int PAGE = 50;
  private static final ObjectMapper JSON = new ObjectMapper();
  private final StatusView status;
  private final ActionTargets services;

  PageReads(StatusView status, ActionTargets services) {
    this.status = status;
    this.services = services;
  }

  void register(RoutesConfig routes, WebAuth auth, PageActions.Guard reads) {
    routes.get("/api/requests", reads.guarded(auth, WebAuth.VIEWER, this::requests));
    routes.get("/api/requests/{queue}/{n}", reads.guarded(auth, WebAuth.VIEWER, this::request));
    routes.get("/api/batches/{id}", reads.guarded(auth, WebAuth.VIEWER, this::batch));
    routes.get("/api/captures", reads.guarded(auth, WebAuth.VIEWER, this::captures));
    routes.get("/api/captures/{id}", reads.guarded(auth, WebAuth.VIEWER, this::capture));
    routes.get("/api/topics/{topic}", reads.guarded(auth, WebAuth.VIEWER, this::topic));
  }

  private void requests(Context ctx) {
    if (services.gateway() == null) {
      notHere(ctx, "requests");
      return;
    }
    ListRequest.Builder list = ListRequest.newBuilder().setQueue(param(ctx, "queue", 128))
        .setLimit(limit(ctx)).setPageToken(param(ctx, "page_token", 1024));
    String state = param(ctx, "state", 32);
    if (!state.isEmpty()) {
      try {
        list.addStates(RequestInfo.State.valueOf(state.toUpperCase(Locale.ROOT)));
      } catch (IllegalArgumentException e) {
        throw new BadParameter("state: one of STARTED, VALIDATED, BATCHED, LANDED, ERROR, CANCELLING, CANCELLED");
      }
    }
    answer(ctx, () -> ProtoJson.toCompleteJson(ActionTargets.call(services.gateway()::list, list.build())));
  }

  private void request(Context ctx) {
    if (services.gateway() == null) {
      notHere(ctx, "requests");
      return;
    }
    String id = ctx.pathParam("queue") + "/" + ctx.pathParam("n");
    answer(ctx, () -> {
      ObjectNode out = JSON.createObjectNode();
      out.set("status", JSON.readTree(ProtoJson.toCompleteJson(ActionTargets.call(services.gateway()::status,
          StatusRequest.newBuilder().setRequestId(id).build()))));
      out.set("history", JSON.readTree(ProtoJson.toCompleteJson(ActionTargets.call(services.gateway()::history,
          HistoryRequest.newBuilder().setRequestId(id).build()))));
      return out.toString();
    });
  }

  private void batch(Context ctx) {
    Optional<ObjectNode> batch = status.batch(ctx.pathParam("id"));
    if (batch.isEmpty()) {
      WebServer.send(ctx, 404, "text/plain", "no batch '" + printable(ctx.pathParam("id")) + "'\n");
    } else {
      WebServer.send(ctx, 200, "application/json", batch.get().toString());
    }
  }

  private void captures(Context ctx) {
    String state = param(ctx, "state", 32).toUpperCase(Locale.ROOT);
    if (!state.isEmpty() && !java.util.Set.of("PENDING", "RUNNING", "WAITING", "SUCCEEDED", "FAILED", "CANCELLED")
        .contains(state)) {
      throw new BadParameter("state: one of PENDING, RUNNING, WAITING, SUCCEEDED, FAILED, CANCELLED");
    }
    int limit = limit(ctx);
    var roots = status.captures(param(ctx, "table", 256), state, param(ctx, "before", 300), limit + 1);
    ObjectNode out = JSON.createObjectNode();
    var shown = out.putArray("captures");
    for (int i = 0; i < Math.min(limit, roots.size()); i++) {
      shown.add(roots.get(i));
    }
    if (roots.size() > limit) {
      out.put("next", roots.get(limit - 1).get("cursor").asText());
    }
    WebServer.send(ctx, 200, "application/json", out.toString());
  }

  private void capture(Context ctx) {
    if (services.captures() == null) {
      notHere(ctx, "captures");
      return;
    }
    answer(ctx, () -> {
      var tree = ActionTargets.call(services.captures()::getJobTree,
          GetJobTreeRequest.newBuilder().setJobId(ctx.pathParam("id")).build());
      ObjectNode out = JSON.createObjectNode();
      out.set("tree", JSON.readTree(ProtoJson.toCompleteJson(tree)));
      var finalized = finalizedSnapshot(tree.getRoot());
      String table = finalized.map(c -> c.getTableId()).orElse("");
      String snapshot = finalized.map(c -> c.getSnapshotId()).orElse("");
      out.put("table", table);
      if (!table.isEmpty() && !snapshot.isEmpty()) {
        try {
          out.set("files", JSON.readTree(ProtoJson.toCompleteJson(ActionTargets.call(services.captures()::listFileStats,
              ListFileStatsRequest.newBuilder().setTableId(table).setSnapshotId(snapshot).setPageSize(100)
                  .setPageToken(param(ctx, "page_token", 1024)).build()))));
        } catch (StatusRuntimeException e) {
          out.put("filesUnavailable", e.getStatus().getCode() + ": " + e.getStatus().getDescription());
        }
      }
      return out.toString();
    });
  }

  /** The completeness of the snapshot a capture finalized (its first finalizer that did), or empty while none has. */
  private static Optional<dev.conveyor.api.reconcile.SnapshotCompleteness> finalizedSnapshot(
      dev.conveyor.api.reconcile.JobTreeNode node) {
    if (node.getJob().hasCompleteness() && !node.getJob().getCompleteness().getSnapshotId().isEmpty()) {
      return Optional.of(node.getJob().getCompleteness());
    }
    for (var child : node.getChildrenList()) {
      var found = finalizedSnapshot(child);
      if (found.isPresent()) {
        return found;
      }
    }
    return Optional.empty();
  }

  private void topic(Context ctx) {
    long before;
    try {
      before = ctx.queryParam("before") == null ? 0 : Long.parseLong(ctx.queryParam("before"));
    } catch (NumberFormatException e) {
      throw new BadParameter("before: a sequence number");
    }
    Optional<ObjectNode> topic = status.topic(ctx.pathParam("topic"), before, limit(ctx));
    if (topic.isEmpty()) {
      WebServer.send(ctx, 404, "text/plain", "no topic '" + printable(ctx.pathParam("topic")) + "'\n");
    } else {
      WebServer.send(ctx, 200, "application/json", topic.get().toString());
    }
  }

  /** A refused query parameter: 400 with a line naming it. */
  static final class BadParameter extends IllegalArgumentException {
    private static final long serialVersionUID = 1L;

    BadParameter(String message) {
      super(message);
    }
  }

  /** Answers a bad parameter with 400, wherever in a read it is found. */
  static void refuse(Context ctx, BadParameter e) {
    WebServer.send(ctx, 400, "text/plain", "invalid " + e.getMessage() + "\n");
  }

  private static String param(Context ctx, String name, int max) {
    String v = ctx.queryParam(name);
    if (v == null) {
      return "";
    }
    if (v.length() > max) {
      throw new BadParameter(name + ": at most " + max + " characters");
    }
    return v;
  }

  private static int limit(Context ctx) {
    String v = ctx.queryParam("limit");
    if (v == null) {
      return PAGE;
    }
    try {
      int n = Integer.parseInt(v);
      if (n >= 1 && n <= 200) {
        return n;
      }
    } catch (NumberFormatException e) {
      // refused below
    }
    throw new BadParameter("limit: 1 to 200");
  }

  private interface Read {
    String json() throws Exception;
  }

  /** A read through a service: its JSON, or its refusal as the matching HTTP status and one line. */
  private static void answer(Context ctx, Read read) {
    try {
      WebServer.send(ctx, 200, "application/json", read.json());
    } catch (StatusRuntimeException e) {
      WebServer.send(ctx, CiReportRoute.httpStatus(e.getStatus().getCode()), "text/plain",
          e.getStatus().getCode() + ": " + e.getStatus().getDescription() + "\n");
    } catch (RuntimeException e) {
      throw e;
    } catch (Exception e) {
      throw new IllegalStateException(e.getMessage(), e);
    }
  }

  private static void notHere(Context ctx, String what) {
    WebServer.send(ctx, 404, "text/plain", "this node serves no " + what + "\n");
  }

  private static String printable(String s) {
    String v = s.length() > 100 ? s.substring(0, 100) + "…" : s;
    return v.replaceAll("[^\\x20-\\x7e…]", "?");
  }
}
