package dev.conveyor.reconcile.auth;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.Map;

/** The parts of an issuer's OpenID discovery document Conveyor uses. */
public record OidcDiscovery(String issuer, URI jwksUri, URI tokenEndpoint) {

  public static OidcDiscovery fetch(String issuer) {
    String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
    URI uri = URI.create(base + "/.well-known/openid-configuration");
    try {
      HttpResponse<String> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
          .send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
              HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("OIDC discovery at " + uri + " answered HTTP " + response.statusCode());
      }
      Map<String, Object> doc = JSONObjectUtils.parse(response.body());
      Object tokenEndpoint = doc.get("token_endpoint");
      return new OidcDiscovery(String.valueOf(doc.get("issuer")), URI.create(String.valueOf(doc.get("jwks_uri"))),
          tokenEndpoint == null ? null : URI.create(String.valueOf(tokenEndpoint)));
    } catch (IOException | java.text.ParseException e) {
      throw new IllegalStateException("OIDC discovery at " + uri + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted during OIDC discovery", e);
    }
  }
}
