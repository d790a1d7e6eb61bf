package dev.conveyor.app.web;

import dev.conveyor.api.ProtoJson;
import dev.conveyor.api.submitqueue.ReportCheckRequest;
import dev.conveyor.submitqueue.gateway.ExternalCiService;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.javalin.http.Context;
import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;

/**
 * {@code POST /api/ci/builds/{id}}: a CI system reports one check of an external build, with the same
 * JSON as the gRPC {@code ReportCheck} message ({@code {"check": "unit", "passed": true, "url": "…"}}). The
 * token must come in the {@code Authorization} header and carry {@code ci-reporter}; the body must be JSON
 * ({@code Content-Type: application/json}, at most {@value #MAX_BODY} bytes), which a page of another site
 * cannot send without a preflight this server never grants. Answers the build as JSON, or the refusal's
 * status with a one-line reason.
 */
final class CiReportRoute {
  static final String PREFIX = "/api/ci/builds/";
  static final int MAX_BODY = 16 * 1024;

  private final WebAuth auth;
  private final ExternalCiService ci;

  CiReportRoute(WebAuth auth, ExternalCiService ci) {
    this.auth = auth;
    this.ci = ci;
  }

  void handle(Context exchange) throws IOException {
    if (auth.checkWriter(exchange, dev.conveyor.reconcile.auth.BearerAuthInterceptor.CI_REPORTER_ROLE)
        instanceof WebAuth.Refused refused) {
      if (refused.status() == 401) {
        exchange.header("WWW-Authenticate", "Bearer realm=\"conveyor\"");
      }
      WebServer.send(exchange, refused.status(), "text/plain", refused.reason() + "\n");
      return;
    }
    String type = exchange.header("Content-Type");
    if (type == null || !type.toLowerCase(java.util.Locale.ROOT).startsWith("application/json")) {
      WebServer.send(exchange, 415, "text/plain", "send the report as JSON (Content-Type: application/json)\n");
      return;
    }
    String id = exchange.pathParam("id");
    if (id.isEmpty() || id.length() > 512 || !id.chars().allMatch(c -> c > 0x20 && c < 0x7f && c != '/')) {
      WebServer.send(exchange, 400, "text/plain", "build id: 1 to 512 printable ASCII characters, no '/'\n");
      return;
    }
    byte[] body;
    try (InputStream in = exchange.bodyInputStream()) {
      body = in.readNBytes(MAX_BODY + 1);
    }
    if (body.length > MAX_BODY) {
      WebServer.send(exchange, 413, "text/plain", "the report is larger than " + MAX_BODY + " bytes\n");
      return;
    }
    ReportCheckRequest request;
    try { // strict: a misspelt field is refused, never read as a missing (false) verdict
      ReportCheckRequest.Builder b = ReportCheckRequest.newBuilder();
      com.google.protobuf.util.JsonFormat.parser().merge(new String(body, StandardCharsets.UTF_8), b);
      request = b.build();
    } catch (com.google.protobuf.InvalidProtocolBufferException | RuntimeException e) {
      WebServer.send(exchange, 400, "text/plain", "not a report: " + oneLine(e.getMessage())
          + " (expected {\"check\": NAME, \"passed\": true|false, \"url\": URL, \"sha\": SHA})\n");
      return;
    }
    if (!request.getBuildId().isEmpty() && !request.getBuildId().equals(id)) {
      WebServer.send(exchange, 400, "text/plain", "build_id: the body names " + request.getBuildId()
          + ", the path " + id + "\n");
      return;
    }
    try {
      var build = ci.report(request.toBuilder().setBuildId(id).build());
      WebServer.send(exchange, 200, "application/json", ProtoJson.toJson(build));
    } catch (StatusRuntimeException e) {
      WebServer.send(exchange, httpStatus(e.getStatus().getCode()), "text/plain",
          e.getStatus().getCode() + ": " + e.getStatus().getDescription() + "\n");
    }
  }

  private static String oneLine(String s) {
    String v = s == null ? "unreadable JSON" : s.replaceAll("[\\r\\n\\t]+", " ");
    return v.length() > 300 ? v.substring(0, 300) + "…" : v;
  }

  static int httpStatus(Status.Code code) {
    return switch (code) {
      case INVALID_ARGUMENT -> 400;
      case NOT_FOUND -> 404;
      case FAILED_PRECONDITION, ALREADY_EXISTS, ABORTED -> 409;
      case PERMISSION_DENIED -> 403;
      case UNAUTHENTICATED -> 401;
      case RESOURCE_EXHAUSTED -> 429;
      case UNAVAILABLE, DEADLINE_EXCEEDED -> 503;
      default -> 500;
    };
  }
}
