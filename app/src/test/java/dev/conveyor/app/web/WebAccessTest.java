package dev.conveyor.app.web;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.app.Main;
import dev.conveyor.app.serve.ControlPlane;
import dev.conveyor.reconcile.auth.BearerAuthInterceptor;
import dev.conveyor.reconcile.auth.LocalOidcIssuer;
import dev.conveyor.reconcile.planning.CapturePlanner;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.time.Instant;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The HTTP side off loopback in OIDC mode, against a real local issuer: every route needs a valid
 * token (401) that carries the viewer role or one implying it (403), like the gRPC services.
 */
class WebAccessTest {
  @TempDir Path dir;
  private LocalOidcIssuer issuer;
  private ControlPlane plane;
  private final HttpClient http = HttpClient.newHttpClient();

  @BeforeEach
  void start() throws Exception {
    issuer = new LocalOidcIssuer();
  }

  @AfterEach
  void stop() {
    if (plane != null) {
      plane.close();
    }
    issuer.close();
  }

  private void serveOffLoopback() throws Exception {
    Path data = dir.resolve("data");
    // 0.0.0.0 is not a loopback bind, so the web server checks tokens; this test reaches it on 127.0.0.1
    plane = ControlPlane.start(new ControlPlane.Config("sqlite:" + data.resolve("conveyor.db"), data, "0.0.0.0", 0,
        ControlPlane.AuthMode.OIDC, issuer.issuer(), "conveyor", false, 1, new CapturePlanner.Limits(2, 1L << 30),
        null, 0, 0));
  }

  private String token(String... roles) {
    return issuer.mint(issuer.issuer(), "conveyor", Instant.now().plusSeconds(300), List.of(roles));
  }

  private HttpResponse<String> get(String path, String bearer) throws Exception {
    HttpRequest.Builder req = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + plane.httpPort() + path));
    if (bearer != null) {
      req.header("Authorization", "Bearer " + bearer);
    }
    return http.send(req.GET().build(), HttpResponse.BodyHandlers.ofString());
  }

  @Test
  void aTokenWithoutAConveyorRoleGets403OnThePageTheApiAndMetrics() throws Exception {
    serveOffLoopback();
    String roleless = token("some-other-app");
    String worker = token(BearerAuthInterceptor.WORKER_ROLE);
    for (String path : List.of("/", "/api/status", "/metrics")) {
      HttpResponse<String> none = get(path, null);
      assertThat(none.statusCode()).as(path).isEqualTo(401);
      assertThat(none.body()).startsWith("a bearer token is required off loopback");
      assertThat(none.headers().firstValue("WWW-Authenticate")).hasValue("Bearer realm=\"conveyor\"");

      HttpResponse<String> forged = get(path, issuer.mint("https://elsewhere.example", "conveyor",
          Instant.now().plusSeconds(300), List.of(BearerAuthInterceptor.VIEWER_ROLE)));
      assertThat(forged.statusCode()).as(path).isEqualTo(401);
      assertThat(forged.body()).startsWith("invalid token:");

      for (String refused : List.of(roleless, worker)) {
        HttpResponse<String> r = get(path, refused);
        assertThat(r.statusCode()).as(path).isEqualTo(403);
        assertThat(r.body()).isEqualTo("the token lacks the role conveyor-viewer (or reconcile-admin or"
            + " submitqueue-user, which imply it)\n");
      }
    }
  }

  @Test
  void theViewerRoleAndTheRolesThatImplyItReadEveryRoute() throws Exception {
    serveOffLoopback();
    for (String role : List.of(BearerAuthInterceptor.VIEWER_ROLE, BearerAuthInterceptor.ADMIN_ROLE,
        BearerAuthInterceptor.SUBMITQUEUE_ROLE)) {
      String t = token(role);
      assertThat(get("/", t).statusCode()).as(role).isEqualTo(200);
      assertThat(get("/api/status", t).body()).as(role).startsWith("{");
      assertThat(get("/metrics", t).body()).as(role).contains("conveyor_loop_failures_total{loop=\"capture-planner-tables\"}")
          .contains("conveyor_loop_healthy{loop=\"maintenance-leader\"} 1.0");
    }
  }

  @Test
  void aBrowserSignsInOnceWithTheQueryTokenOnlyWhenTheTokenHasTheRole() throws Exception {
    serveOffLoopback();
    HttpResponse<String> viewer = get("/?token=" + token(BearerAuthInterceptor.VIEWER_ROLE), null);
    assertThat(viewer.statusCode()).isEqualTo(200);
    String cookie = viewer.headers().firstValue("Set-Cookie").orElseThrow();
    assertThat(cookie).startsWith(WebAuth.COOKIE + "=").contains("HttpOnly");
    HttpResponse<String> again = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + plane.httpPort()
        + "/api/status")).header("Cookie", cookie.substring(0, cookie.indexOf(';'))).GET().build(),
        HttpResponse.BodyHandlers.ofString());
    assertThat(again.statusCode()).isEqualTo(200);

    HttpResponse<String> roleless = get("/?token=" + token("some-other-app"), null);
    assertThat(roleless.statusCode()).isEqualTo(403);
    assertThat(roleless.headers().firstValue("Set-Cookie")).isEmpty();
  }

  @Test
  void serveRefusesToStartWhenTheDiscoveryDocumentNamesAnotherIssuer() throws Exception {
    Map<String, Object> lying = new HashMap<>(issuer.discovery());
    lying.put("issuer", "https://evil.example");
    issuer.serveDiscovery(LocalOidcIssuer.toJson(lying));
    Path data = dir.resolve("never-created");
    PrintStream err0 = System.err;
    ByteArrayOutputStream err = new ByteArrayOutputStream();
    System.setErr(new PrintStream(err, true, StandardCharsets.UTF_8));
    int exit;
    try {
      exit = Main.run("serve", "--data-dir", data.toString(), "--auth", "oidc", "--oidc-issuer", issuer.issuer(),
          "--grpc-port", "0", "--http-port", "-1");
    } finally {
      System.setErr(err0);
    }
    assertThat(exit).isEqualTo(1);
    assertThat(err.toString(StandardCharsets.UTF_8)).contains("error: OIDC discovery document at " + issuer.issuer()
        + "/.well-known/openid-configuration names issuer 'https://evil.example', not the configured '"
        + issuer.issuer() + "'").contains("hint: check oidc-issuer");
    assertThat(data).doesNotExist();
  }
}
