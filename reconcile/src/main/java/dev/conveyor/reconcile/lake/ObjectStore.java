package dev.conveyor.reconcile.lake;

import dev.conveyor.api.reconcile.ConnectorSpec;
import java.net.URI;
import java.net.URL;
import java.time.Duration;
import java.util.Map;
import software.amazon.awssdk.auth.credentials.AwsBasicCredentials;
import software.amazon.awssdk.auth.credentials.AwsCredentialsProvider;
import software.amazon.awssdk.auth.credentials.AwsSessionCredentials;
import software.amazon.awssdk.auth.credentials.DefaultCredentialsProvider;
import software.amazon.awssdk.auth.credentials.StaticCredentialsProvider;
import software.amazon.awssdk.core.checksums.RequestChecksumCalculation;
import software.amazon.awssdk.core.checksums.ResponseChecksumValidation;
import software.amazon.awssdk.http.urlconnection.UrlConnectionHttpClient;
import software.amazon.awssdk.regions.Region;
import software.amazon.awssdk.services.s3.S3Client;
import software.amazon.awssdk.services.s3.S3Configuration;
import software.amazon.awssdk.services.s3.presigner.S3Presigner;

/**
 * An S3-compatible store as a connector describes it: a client for listing (control plane only, with
 * the secrets) and a presigner that turns an object into a read-only URL valid for a lease — all a
 * remote worker ever receives. Clients are made per use and closed by the caller.
 */
public final class ObjectStore implements AutoCloseable {
  private final S3Client client;
  private final S3Presigner presigner;

  private ObjectStore(S3Client client, S3Presigner presigner) {
    this.client = client;
    this.presigner = presigner;
  }

  public static ObjectStore open(ConnectorSpec connector) {
    Map<String, String> p = LakeConfig.withSecrets(connector);
    LakeAccess.applyChecksumMode(connector);
    Region region = Region.of(p.getOrDefault("client.region", "us-east-1"));
    AwsCredentialsProvider credentials = credentials(p);
    boolean pathStyle = Boolean.parseBoolean(p.getOrDefault("s3.path-style-access", "false"));
    S3Configuration config = S3Configuration.builder().pathStyleAccessEnabled(pathStyle).build();
    var clientBuilder = S3Client.builder().region(region).credentialsProvider(credentials)
        .serviceConfiguration(config).httpClientBuilder(UrlConnectionHttpClient.builder());
    var presignerBuilder = S3Presigner.builder().region(region).credentialsProvider(credentials)
        .serviceConfiguration(config);
    if (LakeAccess.whenRequired(connector)) {
      clientBuilder.requestChecksumCalculation(RequestChecksumCalculation.WHEN_REQUIRED)
          .responseChecksumValidation(ResponseChecksumValidation.WHEN_REQUIRED);
    }
    String endpoint = p.get("s3.endpoint");
    if (endpoint != null && !endpoint.isBlank()) {
      URI uri = URI.create(endpoint);
      clientBuilder.endpointOverride(uri);
      presignerBuilder.endpointOverride(uri);
    }
    return new ObjectStore(clientBuilder.build(), presignerBuilder.build());
  }

  private static AwsCredentialsProvider credentials(Map<String, String> p) {
    String key = p.get("s3.access-key-id");
    String secret = p.get("s3.secret-access-key");
    if (key == null || secret == null) {
      return DefaultCredentialsProvider.builder().build(); // the environment, profiles, instance roles
    }
    String session = p.get("s3.session-token");
    return StaticCredentialsProvider.create(session == null ? AwsBasicCredentials.create(key, secret)
        : AwsSessionCredentials.create(key, secret, session));
  }

  public S3Client client() {
    return client;
  }

  /** A GET URL for {@code location} (s3://bucket/key) that stops working after {@code ttl}. */
  public URL presignGet(String location, Duration ttl) {
    S3Location l = S3Location.parse(location);
    return presigner.presignGetObject(b -> b.signatureDuration(ttl)
        .getObjectRequest(r -> r.bucket(l.bucket()).key(l.key()))).url();
  }

  @Override
  public void close() {
    client.close();
    presigner.close();
  }

  /** A parsed {@code s3://bucket/key} location. */
  public record S3Location(String bucket, String key) {
    public static S3Location parse(String location) {
      int scheme = location.indexOf("://");
      if (scheme < 0 || !LakeConfig.objectStore(location)) {
        throw new IllegalArgumentException("'" + location + "' is not an s3:// location");
      }
      String rest = location.substring(scheme + 3);
      int slash = rest.indexOf('/');
      String bucket = slash < 0 ? rest : rest.substring(0, slash);
      if (bucket.isEmpty()) {
        throw new IllegalArgumentException("'" + location + "' names no bucket");
      }
      return new S3Location(bucket, slash < 0 ? "" : rest.substring(slash + 1));
    }
  }
}
