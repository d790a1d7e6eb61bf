package dev.conveyor.reconcile.auth;

import com.nimbusds.jose.util.JSONObjectUtils;
import java.io.IOException;
import java.net.URI;
import java.net.URLEncoder;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.charset.StandardCharsets;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.util.Base64;
import java.util.Map;

/**
 * OAuth2 client-credentials tokens for a worker, fetched from the issuer's token endpoint and
 * refreshed {@code refreshSkew} before they expire.
 */
public final class ClientCredentialsTokens {
  private final URI tokenEndpoint;
  private final String clientId;
  private final String clientSecret;
  private final String audience;
  private final Duration refreshSkew;
  private final Clock clock;
  private final HttpClient http = HttpClient.newBuilder().connectTimeout(Duration.ofSeconds(10)).build();
  private String token;
  private Instant expiresAt = Instant.MIN;
  private int fetches;

  public ClientCredentialsTokens(URI tokenEndpoint, String clientId, String clientSecret, String audience,
      Duration refreshSkew, Clock clock) {
    this.tokenEndpoint = tokenEndpoint;
    this.clientId = clientId;
    this.clientSecret = clientSecret;
    this.audience = audience;
    this.refreshSkew = refreshSkew;
    this.clock = clock;
  }

  /** A token valid for at least the refresh skew; fetches a new one when needed. */
  public synchronized String token() {
    if (token == null || !clock.instant().isBefore(expiresAt.minus(refreshSkew))) {
      fetch();
    }
    return token;
  }

  /** How many tokens were fetched so far (for observing refresh). */
  public synchronized int fetches() {
    return fetches;
  }

  private void fetch() {
    String form = "grant_type=client_credentials" + (audience == null ? "" : "&audience=" + enc(audience));
    String basic = Base64.getEncoder().encodeToString((enc(clientId) + ":" + enc(clientSecret))
        .getBytes(StandardCharsets.UTF_8));
    try {
      HttpResponse<String> response = http.send(HttpRequest.newBuilder(tokenEndpoint).timeout(Duration.ofSeconds(10))
          .header("Content-Type", "application/x-www-form-urlencoded").header("Authorization", "Basic " + basic)
          .POST(HttpRequest.BodyPublishers.ofString(form)).build(), HttpResponse.BodyHandlers.ofString());
      if (response.statusCode() != 200) {
        throw new IllegalStateException("token endpoint " + tokenEndpoint + " answered HTTP " + response.statusCode()
            + ": " + response.body());
      }
      Map<String, Object> body = JSONObjectUtils.parse(response.body());
      Object accessToken = body.get("access_token");
      if (accessToken == null) {
        throw new IllegalStateException("token endpoint " + tokenEndpoint + " returned no access_token");
      }
      long expiresIn = body.get("expires_in") instanceof Number n ? n.longValue() : 300;
      token = accessToken.toString();
      expiresAt = clock.instant().plusSeconds(expiresIn);
      fetches++;
    } catch (IOException | java.text.ParseException e) {
      throw new IllegalStateException("cannot get a token from " + tokenEndpoint + ": " + e.getMessage(), e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted while getting a token", e);
    }
  }

  private static String enc(String s) {
    return URLEncoder.encode(s, StandardCharsets.UTF_8);
  }
}
