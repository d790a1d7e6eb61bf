package dev.conveyor.reconcile.lake;

import dev.conveyor.api.reconcile.ConnectorSpec;
import java.io.IOException;
import java.io.Reader;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Properties;
import java.util.Set;

/**
 * Where a table's object storage and catalog are, and the secrets to reach them. A connector's
 * properties hold only what may be shown and sent to workers (Iceberg's own names: {@code s3.endpoint},
 * {@code s3.path-style-access}, {@code client.region}, {@code uri}, {@code warehouse}); secrets live in
 * the file its {@code credentials-file} property names ({@code s3.access-key-id}, {@code
 * s3.secret-access-key}, {@code s3.session-token}, {@code token} for a catalog's bearer token, {@code
 * credential} for OAuth2 client credentials), read by the control plane each time it needs them and
 * never stored in the ledger; without the file, S3 credentials come from the environment
 * ({@code AWS_ACCESS_KEY_ID}, {@code AWS_SECRET_ACCESS_KEY}, the SDK's usual chain).
 */
public final class LakeConfig {
  public static final String CREDENTIALS_FILE = "credentials-file";
  public static final String CATALOG = "catalog";
  /** {@code when-required}: for S3-compatible servers that refuse the SDK's default trailing checksums. */
  public static final String REQUEST_CHECKSUMS = "s3.request-checksums";
  static final Set<String> SECRETS = Set.of("s3.access-key-id", "s3.secret-access-key", "s3.session-token", "token",
      "credential");
  /** Connector properties Conveyor understands; anything else is refused at registration (a typo fails early). */
  static final Set<String> KNOWN = Set.of(CREDENTIALS_FILE, CATALOG, REQUEST_CHECKSUMS, "s3.endpoint",
      "s3.path-style-access", "client.region", "uri", "warehouse", "oauth2-server-uri", "scope", "prefix");
  /** A credentials file larger than this is not a credentials file. */
  static final long MAX_CREDENTIALS_BYTES = 64 * 1024;

  private LakeConfig() {}

  /** Refuses secrets and unknown keys in a connector's properties, naming the key and the fix. */
  public static void validate(ConnectorSpec connector) {
    for (String key : connector.getPropertiesMap().keySet()) {
      if (SECRETS.contains(key)) {
        throw new IllegalArgumentException("connector.properties." + key + " is a secret and would be stored in the"
            + " ledger and sent to workers; put it in a file and name that file in connector.properties."
            + CREDENTIALS_FILE);
      }
      if (!KNOWN.contains(key)) {
        throw new IllegalArgumentException("connector.properties." + key + " is not a property Conveyor knows (known: "
            + new java.util.TreeSet<>(KNOWN) + ")");
      }
    }
    String catalog = connector.getPropertiesOrDefault(CATALOG, "");
    if (!catalog.isEmpty() && !catalog.equals("rest")) {
      throw new IllegalArgumentException("connector.properties.catalog must be 'rest' (or absent for a table at a"
          + " location), got '" + catalog + "'");
    }
    if (catalog.equals("rest") && connector.getPropertiesOrDefault("uri", "").isEmpty()) {
      throw new IllegalArgumentException("connector.properties.uri must name the REST catalog (http://host:port/…)");
    }
    String checksums = connector.getPropertiesOrDefault(REQUEST_CHECKSUMS, "when-supported");
    if (!checksums.equals("when-supported") && !checksums.equals("when-required")) {
      throw new IllegalArgumentException("connector.properties." + REQUEST_CHECKSUMS
          + " must be when-supported or when-required, got '" + checksums + "'");
    }
  }

  public static boolean restCatalog(ConnectorSpec connector) {
    return "rest".equals(connector.getPropertiesOrDefault(CATALOG, ""));
  }

  public static boolean objectStore(String location) {
    return location.startsWith("s3://") || location.startsWith("s3a://");
  }

  /** The connector's properties with the credentials file's secrets added (control plane only). */
  public static Map<String, String> withSecrets(ConnectorSpec connector) {
    Map<String, String> out = new LinkedHashMap<>(connector.getPropertiesMap());
    String file = out.remove(CREDENTIALS_FILE);
    if (file != null && !file.isBlank()) {
      out.putAll(readCredentials(Path.of(file)));
    }
    return out;
  }

  static Map<String, String> readCredentials(Path file) {
    try {
      if (Files.size(file) > MAX_CREDENTIALS_BYTES) {
        throw new IllegalArgumentException("credentials file " + file + " is larger than "
            + MAX_CREDENTIALS_BYTES + " bytes; it should hold a few key=value lines");
      }
      Properties p = new Properties();
      try (Reader r = Files.newBufferedReader(file)) {
        p.load(r);
      }
      Map<String, String> out = new LinkedHashMap<>();
      for (String key : p.stringPropertyNames()) {
        if (!SECRETS.contains(key)) {
          throw new IllegalArgumentException("credentials file " + file + ": '" + key + "' is not a credential"
              + " (expected " + new java.util.TreeSet<>(SECRETS) + ")");
        }
        out.put(key, p.getProperty(key).trim());
      }
      return out;
    } catch (NoSuchFileException e) {
      throw new IllegalArgumentException("credentials file " + file + " does not exist (connector.properties."
          + CREDENTIALS_FILE + ")");
    } catch (IOException e) {
      throw new java.io.UncheckedIOException("cannot read credentials file " + file + ": " + e.getMessage(), e);
    }
  }
}
