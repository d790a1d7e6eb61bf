package dev.conveyor.submitqueue.notify;

import dev.conveyor.runway.queue.RemoteAuth.Secret;
import java.net.URI;
import java.net.URISyntaxException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Properties;
import java.util.function.Function;

/**
 * A queue's webhook: where its events are POSTed and the secret their HMAC-SHA256 signature is made with
 * ({@code X-Conveyor-Signature-256: sha256=<hex>} over the body). Signing is not optional.
 * <pre>
 * queue.app.webhook-url = https://ci.example/hooks/conveyor
 * queue.app.webhook-secret-file = /etc/conveyor/app.webhook     # or webhook-secret-env = VAR
 * </pre>
 */
public record Webhook(URI url, Secret secret) {
  public static final java.util.Set<String> SETTINGS = java.util.Set.of("webhook-url", "webhook-secret-file",
      "webhook-secret-env");
  public static final int MAX_URL = 2048;

  /** The webhook of queue {@code queue}, or null without {@code webhook-url}; refused naming the key. */
  public static Webhook parse(String queue, Properties p, Function<String, String> environment) {
    String prefix = "queue." + queue + ".";
    String url = p.getProperty(prefix + "webhook-url");
    String file = p.getProperty(prefix + "webhook-secret-file");
    String env = p.getProperty(prefix + "webhook-secret-env");
    if (url == null) {
      if (file != null || env != null) {
        throw new IllegalArgumentException(prefix + "webhook-secret-* needs " + prefix + "webhook-url");
      }
      return null;
    }
    URI uri;
    try {
      uri = new URI(url.trim());
    } catch (URISyntaxException e) {
      throw new IllegalArgumentException(prefix + "webhook-url: not a URL (" + e.getReason() + ")");
    }
    String scheme = uri.getScheme() == null ? "" : uri.getScheme().toLowerCase(java.util.Locale.ROOT);
    if (!(scheme.equals("http") || scheme.equals("https")) || uri.getHost() == null || url.length() > MAX_URL) {
      throw new IllegalArgumentException(prefix + "webhook-url: an http or https URL with a host, at most " + MAX_URL
          + " characters");
    }
    if ((file == null) == (env == null)) {
      throw new IllegalArgumentException(prefix + "webhook-secret-file or " + prefix + "webhook-secret-env: set exactly"
          + " one (every delivery is signed)");
    }
    if (file != null) {
      Path f = Path.of(file.trim());
      if (!f.isAbsolute() || !Files.isReadable(f)) {
        throw new IllegalArgumentException(prefix + "webhook-secret-file: " + f + " must be an absolute path this user"
            + " can read");
      }
      return new Webhook(uri, Secret.ofFile(f));
    }
    String value = environment.apply(env.trim());
    if (value == null || value.isBlank()) {
      throw new IllegalArgumentException(prefix + "webhook-secret-env: " + env.trim() + " is not set in the server's"
          + " environment");
    }
    return new Webhook(uri, Secret.ofEnv(env.trim(), value.strip()));
  }

  /** The URL without its query (which may carry a key): for logs. */
  public String shown() {
    return url.getScheme() + "://" + url.getHost() + (url.getPort() < 0 ? "" : ":" + url.getPort())
        + (url.getPath() == null ? "" : url.getPath());
  }

  @Override
  public String toString() {
    return "Webhook[" + shown() + ", secret from " + secret + "]";
  }
}
