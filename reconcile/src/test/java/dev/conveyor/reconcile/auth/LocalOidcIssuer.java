package dev.conveyor.reconcile.auth;

import com.nimbusds.jose.JOSEException;
import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.JWSHeader;
import com.nimbusds.jose.crypto.RSASSASigner;
import com.nimbusds.jose.jwk.JWKSet;
import com.nimbusds.jose.jwk.RSAKey;
import com.nimbusds.jose.jwk.gen.RSAKeyGenerator;
import com.nimbusds.jose.util.JSONObjectUtils;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.SignedJWT;
import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import java.io.IOException;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.time.Instant;
import java.util.Base64;
import java.util.Date;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.atomic.AtomicInteger;

/** A small but real OIDC issuer on loopback: discovery, JWKS and a client-credentials token endpoint. */
public final class LocalOidcIssuer implements AutoCloseable {
  private final HttpServer server;
  private final RSAKey key;
  private final String base;
  private final Map<String, Client> clients = new HashMap<>();
  private final AtomicInteger tokensIssued = new AtomicInteger();
  private volatile long tokenTtlSeconds = 300;

  private record Client(String secret, List<String> roles) {}

  public LocalOidcIssuer() throws IOException, JOSEException {
    key = new RSAKeyGenerator(2048).keyID("k-" + System.nanoTime()).generate();
    server = HttpServer.create(new InetSocketAddress(InetAddress.getLoopbackAddress(), 0), 0);
    base = "http://127.0.0.1:" + server.getAddress().getPort();
    server.createContext("/.well-known/openid-configuration", ex -> {
      String raw = rawDiscovery;
      if (raw != null) {
        byte[] bytes = raw.getBytes(StandardCharsets.UTF_8);
        ex.getResponseHeaders().add("Content-Type", "application/json");
        ex.sendResponseHeaders(200, bytes.length);
        ex.getResponseBody().write(bytes);
        ex.close();
      } else {
        json(ex, 200, discovery());
      }
    });
    server.createContext("/jwks", ex -> json(ex, 200, new JWKSet(key.toPublicJWK()).toJSONObject()));
    server.createContext("/token", this::token);
    server.start();
  }

  public String issuer() {
    return base;
  }

  private volatile String rawDiscovery;

  /** The discovery document this issuer serves by default: issuer, jwks_uri, token_endpoint. */
  public Map<String, Object> discovery() {
    return Map.of("issuer", base, "jwks_uri", base + "/jwks", "token_endpoint", base + "/token");
  }

  /** Serves {@code json} as the discovery document from now on (a lying or broken issuer). */
  public void serveDiscovery(String json) {
    rawDiscovery = json;
  }

  /** {@code doc} as JSON, for {@link #serveDiscovery}. */
  public static String toJson(Map<String, ?> doc) {
    return JSONObjectUtils.toJSONString(new HashMap<>(doc));
  }

  public void register(String clientId, String secret, String... roles) {
    clients.put(clientId, new Client(secret, List.of(roles)));
  }

  public void tokenTtlSeconds(long ttl) {
    tokenTtlSeconds = ttl;
  }

  public int tokensIssued() {
    return tokensIssued.get();
  }

  /** Signs a token with this issuer's key and whatever claims the test wants. */
  public String mint(String issuer, String audience, Instant expires, List<String> roles) {
    return mint(issuer, audience, expires, roles, "test-client");
  }

  /** A token for {@code subject}. */
  public String mint(String issuer, String audience, Instant expires, List<String> roles, String subject) {
    try {
      JWTClaimsSet claims = new JWTClaimsSet.Builder().issuer(issuer).subject(subject).audience(audience)
          .expirationTime(Date.from(expires)).issueTime(new Date()).claim("roles", roles).build();
      SignedJWT jwt = new SignedJWT(new JWSHeader.Builder(JWSAlgorithm.RS256).keyID(key.getKeyID()).build(), claims);
      jwt.sign(new RSASSASigner(key));
      return jwt.serialize();
    } catch (JOSEException e) {
      throw new IllegalStateException(e);
    }
  }

  private void token(HttpExchange ex) throws IOException {
    String auth = ex.getRequestHeaders().getFirst("Authorization");
    String body = new String(ex.getRequestBody().readAllBytes(), StandardCharsets.UTF_8);
    Map<String, String> form = new HashMap<>();
    for (String pair : body.split("&")) {
      String[] kv = pair.split("=", 2);
      form.put(URLDecoder.decode(kv[0], StandardCharsets.UTF_8),
          kv.length > 1 ? URLDecoder.decode(kv[1], StandardCharsets.UTF_8) : "");
    }
    if (auth == null || !auth.startsWith("Basic ") || !"client_credentials".equals(form.get("grant_type"))) {
      json(ex, 400, Map.of("error", "invalid_request"));
      return;
    }
    String[] idSecret = new String(Base64.getDecoder().decode(auth.substring(6)), StandardCharsets.UTF_8).split(":", 2);
    Client client = clients.get(URLDecoder.decode(idSecret[0], StandardCharsets.UTF_8));
    if (client == null || idSecret.length < 2 || !client.secret().equals(URLDecoder.decode(idSecret[1],
        StandardCharsets.UTF_8))) {
      json(ex, 401, Map.of("error", "invalid_client"));
      return;
    }
    String token = mint(base, form.getOrDefault("audience", "conveyor"), Instant.now().plusSeconds(tokenTtlSeconds),
        client.roles());
    tokensIssued.incrementAndGet();
    json(ex, 200, Map.of("access_token", token, "token_type", "Bearer", "expires_in", tokenTtlSeconds));
  }

  private static void json(HttpExchange ex, int status, Map<String, ?> body) throws IOException {
    byte[] bytes = JSONObjectUtils.toJSONString(new HashMap<>(body)).getBytes(StandardCharsets.UTF_8);
    ex.getResponseHeaders().add("Content-Type", "application/json");
    ex.sendResponseHeaders(status, bytes.length);
    ex.getResponseBody().write(bytes);
    ex.close();
  }

  @Override
  public void close() {
    server.stop(0);
  }
}
