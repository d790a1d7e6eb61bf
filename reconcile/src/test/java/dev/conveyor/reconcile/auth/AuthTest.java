package dev.conveyor.reconcile.auth;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.api.reconcile.LeaseReconcileJobRequest;
import dev.conveyor.api.reconcile.ListJobsRequest;
import dev.conveyor.api.reconcile.ReconcileControlGrpc;
import dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc;
import dev.conveyor.ledger.testing.LedgerTestBase;
import dev.conveyor.reconcile.control.ReconcileControlService;
import dev.conveyor.reconcile.executor.GrpcErrors;
import dev.conveyor.reconcile.executor.ReconcileExecutorService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptors;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.assertj.core.api.ThrowableAssert.ThrowingCallable;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** Bearer-token auth against a real local OIDC issuer, on real gRPC over loopback. */
class AuthTest extends LedgerTestBase {
  @TempDir static Path dir;
  private LocalOidcIssuer issuer;
  private LocalOidcIssuer stranger;
  private Server server;
  private ManagedChannel channel;
  private dev.conveyor.durability.service.DurabilityRuntime durability;

  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }

  @BeforeEach
  void start() throws Exception {
    issuer = new LocalOidcIssuer();
    stranger = new LocalOidcIssuer();
    issuer.register("capture-worker", "s3cret", BearerAuthInterceptor.WORKER_ROLE);
    issuer.register("operator", "adm1n", BearerAuthInterceptor.ADMIN_ROLE);
    TokenValidator validator = new TokenValidator(OidcDiscovery.fetch(issuer.issuer()), "conveyor");
    BearerAuthInterceptor auth = new BearerAuthInterceptor(validator, BearerAuthInterceptor.SERVICE_ROLES);
    durability = dev.conveyor.durability.service.DurabilityRuntime.start(ledger, 4);
    server = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .addService(ServerInterceptors.intercept(new ReconcileExecutorService(ledger, 16), auth))
        .addService(ServerInterceptors.intercept(new ReconcileControlService(ledger), auth))
        .addService(ServerInterceptors.intercept(durability.service(), auth))
        .build().start();
    channel = NettyChannelBuilder.forAddress("127.0.0.1", server.getPort()).usePlaintext().build();
  }

  @AfterEach
  void stop() throws Exception {
    channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    server.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    durability.close();
    issuer.close();
    stranger.close();
  }

  private ReconcileExecutorControlGrpc.ReconcileExecutorControlBlockingStub worker(String token) {
    var stub = ReconcileExecutorControlGrpc.newBlockingStub(channel);
    return token == null ? stub : stub.withCallCredentials(new BearerCredentials(() -> token));
  }

  private static final LeaseReconcileJobRequest LEASE = LeaseReconcileJobRequest.newBuilder().setExecutorId("w").build();

  private static void refused(ThrowingCallable call, Status.Code code, String reason) {
    assertThatThrownBy(call).isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
      assertThat(e.getStatus().getCode()).isEqualTo(code);
      assertThat(GrpcErrors.reasonOf(e)).isEqualTo(reason);
    });
  }

  @Test
  void aWorkerWithClientCredentialsIsServed() {
    var tokens = new ClientCredentialsTokens(OidcDiscovery.fetch(issuer.issuer()).tokenEndpoint(), "capture-worker",
        "s3cret", "conveyor", Duration.ofSeconds(30), clock);
    var stub = ReconcileExecutorControlGrpc.newBlockingStub(channel).withCallCredentials(
        new BearerCredentials(tokens::token));
    assertThat(stub.leaseReconcileJob(LEASE).getJobsList()).isEmpty();
  }

  @Test
  void missingExpiredForeignWrongAudienceAndWrongRoleTokensAreRefused() {
    Instant later = Instant.now().plusSeconds(300);
    List<String> workerRole = List.of(BearerAuthInterceptor.WORKER_ROLE);
    refused(() -> worker(null).leaseReconcileJob(LEASE), Status.Code.UNAUTHENTICATED, "MISSING_TOKEN");
    refused(() -> worker(issuer.mint(issuer.issuer(), "conveyor", Instant.now().minusSeconds(600), workerRole))
        .leaseReconcileJob(LEASE), Status.Code.UNAUTHENTICATED, "INVALID_TOKEN");
    refused(() -> worker(stranger.mint(stranger.issuer(), "conveyor", later, workerRole)).leaseReconcileJob(LEASE),
        Status.Code.UNAUTHENTICATED, "INVALID_TOKEN");
    refused(() -> worker(issuer.mint("https://elsewhere.example", "conveyor", later, workerRole))
        .leaseReconcileJob(LEASE), Status.Code.UNAUTHENTICATED, "INVALID_TOKEN");
    refused(() -> worker(issuer.mint(issuer.issuer(), "another-service", later, workerRole)).leaseReconcileJob(LEASE),
        Status.Code.UNAUTHENTICATED, "INVALID_TOKEN");
    refused(() -> worker(issuer.mint(issuer.issuer(), "conveyor", later, List.of(BearerAuthInterceptor.ADMIN_ROLE)))
        .leaseReconcileJob(LEASE), Status.Code.PERMISSION_DENIED, "MISSING_ROLE");
    refused(() -> ReconcileControlGrpc.newBlockingStub(channel)
        .withCallCredentials(new BearerCredentials(() -> issuer.mint(issuer.issuer(), "conveyor", later, workerRole)))
        .listJobs(ListJobsRequest.getDefaultInstance()), Status.Code.PERMISSION_DENIED, "MISSING_ROLE");
    assertThat(ReconcileControlGrpc.newBlockingStub(channel).withCallCredentials(new BearerCredentials(() ->
        issuer.mint(issuer.issuer(), "conveyor", later, List.of(BearerAuthInterceptor.ADMIN_ROLE))))
        .listJobs(ListJobsRequest.getDefaultInstance()).getJobsList()).isEmpty();
  }

  @Test
  void tokensAreRefreshedBeforeTheyExpire() {
    issuer.tokenTtlSeconds(120);
    var tokens = new ClientCredentialsTokens(OidcDiscovery.fetch(issuer.issuer()).tokenEndpoint(), "capture-worker",
        "s3cret", "conveyor", Duration.ofSeconds(30), clock);
    String first = tokens.token();
    clock.advance(Duration.ofSeconds(89));
    assertThat(tokens.token()).isEqualTo(first);
    assertThat(tokens.fetches()).isEqualTo(1);
    clock.advance(Duration.ofSeconds(1)); // 30 s before expiry
    tokens.token();
    assertThat(tokens.fetches()).isEqualTo(2);
    assertThat(issuer.tokensIssued()).isEqualTo(2);
  }

  @Test
  void wrongClientSecretIsAClearError() {
    var tokens = new ClientCredentialsTokens(OidcDiscovery.fetch(issuer.issuer()).tokenEndpoint(), "capture-worker",
        "wrong", "conveyor", Duration.ofSeconds(30), clock);
    assertThatThrownBy(tokens::token).hasMessageContaining("HTTP 401").hasMessageContaining("invalid_client");
  }

  @Test
  void aDiscoveryDocumentThatNamesAnotherIssuerIsRefusedNamingBoth() {
    java.util.Map<String, Object> doc = new java.util.HashMap<>(issuer.discovery());
    doc.put("issuer", stranger.issuer());
    issuer.serveDiscovery(LocalOidcIssuer.toJson(doc));
    assertThatThrownBy(() -> OidcDiscovery.fetch(issuer.issuer())).isInstanceOf(OidcDiscovery.DiscoveryException.class)
        .hasMessageContaining("names issuer '" + stranger.issuer() + "'")
        .hasMessageContaining("not the configured '" + issuer.issuer() + "'");
  }

  @Test
  void theIssuerIsComparedExactlySoATrailingSlashDifferenceIsRefused() {
    assertThatThrownBy(() -> OidcDiscovery.fetch(issuer.issuer() + "/"))
        .isInstanceOf(OidcDiscovery.DiscoveryException.class)
        .hasMessageContaining("names issuer '" + issuer.issuer() + "', not the configured '" + issuer.issuer() + "/'")
        .hasMessageContaining("trailing slash included");
    assertThat(OidcDiscovery.fetch(issuer.issuer()).issuer()).isEqualTo(issuer.issuer());
  }

  @Test
  void aDiscoveryDocumentWithoutJwksUriOrBeyondTheSizeBoundIsRefused() {
    issuer.serveDiscovery(LocalOidcIssuer.toJson(java.util.Map.of("issuer", issuer.issuer())));
    assertThatThrownBy(() -> OidcDiscovery.fetch(issuer.issuer())).hasMessageContaining("has no jwks_uri");

    issuer.serveDiscovery(LocalOidcIssuer.toJson(java.util.Map.of("issuer", issuer.issuer(), "jwks_uri", "file:/etc/x")));
    assertThatThrownBy(() -> OidcDiscovery.fetch(issuer.issuer())).hasMessageContaining("is not an http(s) URL");

    java.util.Map<String, Object> huge = new java.util.HashMap<>(issuer.discovery());
    huge.put("padding", "x".repeat(OidcDiscovery.MAX_BYTES));
    issuer.serveDiscovery(LocalOidcIssuer.toJson(huge));
    assertThatThrownBy(() -> OidcDiscovery.fetch(issuer.issuer()))
        .hasMessageContaining("is larger than " + OidcDiscovery.MAX_BYTES + " bytes");
  }

  @Test
  void theDurabilityServiceWritesNeedTheClientRoleAndItsReadsTheReaderRole() {
    Instant later = Instant.now().plusSeconds(300);
    java.util.function.Function<String, dev.conveyor.api.durability.DurabilityGrpc.DurabilityBlockingStub> as =
        role -> dev.conveyor.api.durability.DurabilityGrpc.newBlockingStub(channel).withCallCredentials(
            new BearerCredentials(() -> issuer.mint(issuer.issuer(), "conveyor", later, List.of(role))));
    var emit = dev.conveyor.api.durability.EmitSignalRequest.newBuilder().setStream("s").setIntentId("i").build();
    var summary = dev.conveyor.api.durability.GetSummaryRequest.newBuilder().setSubject("s").build();
    assertThat(as.apply(BearerAuthInterceptor.DURABILITY_CLIENT_ROLE).emitSignal(emit).getSequence()).isEqualTo(1);
    assertThat(as.apply(BearerAuthInterceptor.DURABILITY_CLIENT_ROLE).getSummary(summary).getRecentSignalsCount())
        .isEqualTo(1);
    assertThat(as.apply(BearerAuthInterceptor.DURABILITY_READER_ROLE).getSummary(summary).getRecentSignalsCount())
        .isEqualTo(1);
    assertThat(as.apply(BearerAuthInterceptor.ADMIN_ROLE).getSummary(summary).getSubject()).isEqualTo("s");
    refused(() -> as.apply(BearerAuthInterceptor.DURABILITY_READER_ROLE).emitSignal(emit),
        Status.Code.PERMISSION_DENIED, "MISSING_ROLE");
    refused(() -> as.apply(BearerAuthInterceptor.ADMIN_ROLE).emitSignal(emit), Status.Code.PERMISSION_DENIED,
        "MISSING_ROLE");
    refused(() -> as.apply(BearerAuthInterceptor.WORKER_ROLE).getSummary(summary), Status.Code.PERMISSION_DENIED,
        "MISSING_ROLE");
    refused(() -> dev.conveyor.api.durability.DurabilityGrpc.newBlockingStub(channel).getSummary(summary),
        Status.Code.UNAUTHENTICATED, "MISSING_TOKEN");
  }

  @Test
  void adminAndSubmitQueueRolesImplyTheViewerRoleAndTheWorkerRoleDoesNot() {
    assertThat(BearerAuthInterceptor.grants(java.util.Set.of(BearerAuthInterceptor.ADMIN_ROLE),
        BearerAuthInterceptor.VIEWER_ROLE)).isTrue();
    assertThat(BearerAuthInterceptor.grants(java.util.Set.of(BearerAuthInterceptor.SUBMITQUEUE_ROLE),
        BearerAuthInterceptor.VIEWER_ROLE)).isTrue();
    assertThat(BearerAuthInterceptor.grants(java.util.Set.of(BearerAuthInterceptor.VIEWER_ROLE),
        BearerAuthInterceptor.VIEWER_ROLE)).isTrue();
    assertThat(BearerAuthInterceptor.grants(java.util.Set.of(BearerAuthInterceptor.WORKER_ROLE),
        BearerAuthInterceptor.VIEWER_ROLE)).isFalse();
    assertThat(BearerAuthInterceptor.grants(java.util.Set.of(BearerAuthInterceptor.VIEWER_ROLE),
        BearerAuthInterceptor.ADMIN_ROLE)).isFalse();
  }

  @Test
  void theInProcessTokenIsAWorkerOnlyCredentialBesideTheIssuersTokens() throws Exception {
    InProcessToken inProcess = InProcessToken.generate();
    TokenValidator validator = new TokenValidator(OidcDiscovery.fetch(issuer.issuer()), "conveyor");
    BearerAuthInterceptor auth = new BearerAuthInterceptor(inProcess.before(validator),
        BearerAuthInterceptor.SERVICE_ROLES);
    Server own = NettyServerBuilder.forAddress(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0))
        .addService(ServerInterceptors.intercept(new ReconcileExecutorService(ledger, 16), auth))
        .addService(ServerInterceptors.intercept(new ReconcileControlService(ledger), auth))
        .addService(ServerInterceptors.intercept(durability.service(), auth))
        .build().start();
    ManagedChannel ch = NettyChannelBuilder.forAddress("127.0.0.1", own.getPort()).usePlaintext().build();
    try {
      var creds = new BearerCredentials(inProcess::value);
      assertThat(ReconcileExecutorControlGrpc.newBlockingStub(ch).withCallCredentials(creds).leaseReconcileJob(LEASE)
          .getJobsList()).isEmpty();
      refused(() -> ReconcileControlGrpc.newBlockingStub(ch).withCallCredentials(creds)
          .listJobs(ListJobsRequest.getDefaultInstance()), Status.Code.PERMISSION_DENIED, "MISSING_ROLE");
      String admin = issuer.mint(issuer.issuer(), "conveyor", Instant.now().plusSeconds(300),
          List.of(BearerAuthInterceptor.ADMIN_ROLE));
      assertThat(ReconcileControlGrpc.newBlockingStub(ch).withCallCredentials(new BearerCredentials(() -> admin))
          .listJobs(ListJobsRequest.getDefaultInstance()).getJobsList()).isEmpty();
      refused(() -> ReconcileExecutorControlGrpc.newBlockingStub(ch).withCallCredentials(new BearerCredentials(
          () -> InProcessToken.generate().value())).leaseReconcileJob(LEASE), Status.Code.UNAUTHENTICATED,
          "INVALID_TOKEN");
      assertThat(inProcess.toString()).doesNotContain(inProcess.value());
    } finally {
      ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      own.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }
  }
}
