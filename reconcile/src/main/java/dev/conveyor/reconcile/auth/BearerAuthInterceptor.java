package dev.conveyor.reconcile.auth;

import com.google.rpc.Code;
import dev.conveyor.reconcile.executor.GrpcErrors;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.StatusRuntimeException;
import java.util.Map;
import java.util.Set;

/**
 * Requires a valid bearer token on every call and the role its service demands: a missing,
 * malformed, expired, foreign-issuer or wrong-audience token is UNAUTHENTICATED; a valid token
 * without the role is PERMISSION_DENIED.
 */
public final class BearerAuthInterceptor implements ServerInterceptor {
  public static final Metadata.Key<String> AUTHORIZATION =
      Metadata.Key.of("authorization", Metadata.ASCII_STRING_MARSHALLER);
  public static final String WORKER_ROLE = "reconcile-worker";
  public static final String ADMIN_ROLE = "reconcile-admin";
  public static final String SUBMITQUEUE_ROLE = "submitqueue-user";
  /** Reports external CI verdicts and lists the builds waiting for them; implies nothing else. */
  public static final String CI_REPORTER_ROLE = "ci-reporter";
  /** Reads the status page, its JSON, metrics and build logs; granted by itself or implied (below). */
  public static final String VIEWER_ROLE = "conveyor-viewer";

  /** Emits signals, commits cursors and claims effects through the Durability service (and reads them). */
  public static final String DURABILITY_CLIENT_ROLE = "durability-client";
  /** Reads signals, cursors, effects and summaries of the Durability service, and nothing else. */
  public static final String DURABILITY_READER_ROLE = "durability-reader";

  /**
   * Roles that carry others: people who may administer captures or land changes may also look.
   * {@code reconcile-worker} implies nothing: a worker's credential does not read the node's state.
   */
  public static final Map<String, Set<String>> IMPLIED_ROLES = Map.of(
      ADMIN_ROLE, Set.of(VIEWER_ROLE, DURABILITY_READER_ROLE),
      SUBMITQUEUE_ROLE, Set.of(VIEWER_ROLE),
      DURABILITY_CLIENT_ROLE, Set.of(DURABILITY_READER_ROLE));

  /** Methods whose role differs from their service's: the Durability service's reads. */
  public static final Map<String, String> METHOD_ROLES = Map.of(
      "conveyor.durability.Durability/ReadSignals", DURABILITY_READER_ROLE,
      "conveyor.durability.Durability/FollowSignals", DURABILITY_READER_ROLE,
      "conveyor.durability.Durability/GetCursor", DURABILITY_READER_ROLE,
      "conveyor.durability.Durability/ListEffects", DURABILITY_READER_ROLE,
      "conveyor.durability.Durability/GetSummary", DURABILITY_READER_ROLE);

  /** The role each service demands, by gRPC service name. */
  public static final Map<String, String> SERVICE_ROLES = Map.of(
      "conveyor.reconcile.ReconcileExecutorControl", WORKER_ROLE,
      "conveyor.reconcile.ReconcileControl", ADMIN_ROLE,
      "conveyor.submitqueue.Gateway", SUBMITQUEUE_ROLE,
      // pausing or draining a merge queue stops everyone's changes: the node's administrators only
      "conveyor.submitqueue.QueueControl", ADMIN_ROLE,
      // a CI system's credential reports verdicts of builds it ran, and nothing else
      "conveyor.submitqueue.ExternalCi", CI_REPORTER_ROLE,
      "conveyor.durability.Durability", DURABILITY_CLIENT_ROLE);

  private final TokenRoles validator;
  private final Map<String, String> roleByService;

  public BearerAuthInterceptor(TokenRoles validator, Map<String, String> roleByService) {
    this.validator = validator;
    this.roleByService = Map.copyOf(roleByService);
  }

  /** Whether a token holding {@code held} has {@code required}, directly or through {@link #IMPLIED_ROLES}. */
  public static boolean grants(Set<String> held, String required) {
    if (held.contains(required)) {
      return true;
    }
    for (String role : held) {
      if (IMPLIED_ROLES.getOrDefault(role, Set.of()).contains(required)) {
        return true;
      }
    }
    return false;
  }

  @Override
  public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
      ServerCallHandler<Q, R> next) {
    String service = call.getMethodDescriptor().getServiceName();
    String required = METHOD_ROLES.getOrDefault(call.getMethodDescriptor().getFullMethodName(),
        roleByService.get(service));
    if (required == null) {
      return next.startCall(call, headers); // health and other public services
    }
    String header = headers.get(AUTHORIZATION);
    StatusRuntimeException refusal = null;
    if (header == null || !header.regionMatches(true, 0, "Bearer ", 0, 7) || header.length() <= 7) {
      refusal = GrpcErrors.status(Code.UNAUTHENTICATED, "MISSING_TOKEN",
          "a bearer token is required (authorization: Bearer <token>)");
    } else {
      try {
        Set<String> roles = validator.rolesOf(header.substring(7).trim());
        if (!grants(roles, required)) {
          refusal = GrpcErrors.status(Code.PERMISSION_DENIED, "MISSING_ROLE",
              "the token lacks the role " + required + " that " + service + " requires");
        }
      } catch (TokenValidator.InvalidTokenException e) {
        refusal = GrpcErrors.status(Code.UNAUTHENTICATED, "INVALID_TOKEN", "invalid bearer token: " + e.getMessage());
      }
    }
    if (refusal != null) {
      call.close(refusal.getStatus(), refusal.getTrailers() == null ? new Metadata() : refusal.getTrailers());
      return new ServerCall.Listener<>() {};
    }
    return next.startCall(call, headers);
  }
}
