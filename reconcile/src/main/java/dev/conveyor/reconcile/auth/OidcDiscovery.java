package dev.conveyor.reconcile.auth;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.io.IOException;
import java.io.InputStream;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.Map;

/**
 * The parts of an issuer's OpenID discovery document Conveyor uses, fetched and checked as OpenID
 * Connect Discovery 1.0 §4.3 requires: the document's {@code issuer} must be identical to the
 * configured issuer — compared exactly, so a trailing slash counts (tokens carry the document's
 * {@code iss}, and a lenient match would accept a document that speaks for another issuer). The
 * document is read up to {@link #MAX_BYTES} and must name an absolute http(s) {@code jwks_uri}.
 */
public record OidcDiscovery(String issuer, URI jwksUri, URI tokenEndpoint) {
  /** Real discovery documents are a few KiB; anything past this is refused rather than buffered. */
  public static final int MAX_BYTES = 64 * 1024;

  /** The issuer's discovery document is missing, oversized, malformed or speaks for another issuer. */
  public static final class DiscoveryException extends IllegalStateException {
    private static final long serialVersionUID = 1L;

    public DiscoveryException(String message, Throwable cause) {
      super(message, cause);
    }
  }

  public static OidcDiscovery fetch(String issuer) {
    String base = issuer.endsWith("/") ? issuer.substring(0, issuer.length() - 1) : issuer;
    URI uri = URI.create(base + "/.well-known/openid-configuration");
    try {
      HttpResponse<InputStream> response = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build()
          .send(HttpRequest.newBuilder(uri).timeout(Duration.ofSeconds(10)).GET().build(),
              HttpResponse.BodyHandlers.ofInputStream());
      byte[] body;
      try (InputStream in = response.body()) {
        body = in.readNBytes(MAX_BYTES + 1);
      }
      if (response.statusCode() != 200) {
        throw refused("OIDC discovery at " + uri + " answered HTTP " + response.statusCode(), null);
      }
      if (body.length > MAX_BYTES) {
        throw refused("OIDC discovery document at " + uri + " is larger than " + MAX_BYTES + " bytes", null);
      }
      return parse(issuer, uri, new String(body, StandardCharsets.UTF_8));
    } catch (IOException e) {
      throw refused("OIDC discovery at " + uri + " failed: " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw refused("interrupted during OIDC discovery", e);
    }
  }

  static OidcDiscovery parse(String configured, URI from, String json) {
    Map<String, Object> doc;
    try {
      doc = JSONObjectUtils.parse(json);
    } catch (java.text.ParseException e) {
      throw refused("OIDC discovery document at " + from + " is not JSON: " + e.getMessage(), e);
    }
    Object issuer = doc.get("issuer");
    if (!(issuer instanceof String stated) || !stated.equals(configured)) {
      throw refused("OIDC discovery document at " + from + " names issuer '" + issuer + "', not the configured '"
          + configured + "' (they must be identical, trailing slash included)", null);
    }
    URI jwks = absoluteHttp(doc.get("jwks_uri"), "jwks_uri", from);
    Object token = doc.get("token_endpoint");
    return new OidcDiscovery(stated, jwks, token == null ? null : absoluteHttp(token, "token_endpoint", from));
  }

  private static URI absoluteHttp(Object value, String field, URI from) {
    if (!(value instanceof String s) || s.isBlank()) {
      throw refused("OIDC discovery document at " + from + " has no " + field, null);
    }
    try {
      URI uri = new URI(s);
      if (!uri.isAbsolute() || !("https".equals(uri.getScheme()) || "http".equals(uri.getScheme()))) {
        throw refused("OIDC discovery document at " + from + ": " + field + " '" + s + "' is not an http(s) URL",
            null);
      }
      return uri;
    } catch (java.net.URISyntaxException e) {
      throw refused("OIDC discovery document at " + from + ": " + field + " '" + s + "' is not a URL", e);
    }
  }

  private static DiscoveryException refused(String message, Throwable cause) {
    return new DiscoveryException(message, cause);
  }
}
