package dev.conveyor.capture.worker;

import java.net.ServerSocket;
import java.net.URI;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.Map;
import java.util.Properties;
import org.apache.iceberg.rest.LoopbackRestCatalogServer;
import org.gaul.s3proxy.AuthenticationType;
import org.gaul.s3proxy.S3Proxy;
import org.jclouds.ContextBuilder;
import org.jclouds.blobstore.BlobStoreContext;

/**
 * A lakehouse on loopback for tests: an S3 server (s3proxy over a local directory, SigV4 with one key
 * pair) holding bucket {@code lake}, and Iceberg's REST catalog server keeping its tables there.
 */
public final class Lakehouse implements AutoCloseable {
  public static final String ACCESS_KEY = "conveyor-test-key";
  public static final String SECRET_KEY = "conveyor-test-secret";
  public static final String BUCKET = "lake";

  private final S3Proxy s3;
  private final LoopbackRestCatalogServer catalog;
  private final String s3Endpoint;
  private final String catalogUri;

  private Lakehouse(S3Proxy s3, LoopbackRestCatalogServer catalog, String s3Endpoint, String catalogUri) {
    this.s3 = s3;
    this.catalog = catalog;
    this.s3Endpoint = s3Endpoint;
    this.catalogUri = catalogUri;
  }

  public static Lakehouse start(Path dir) throws Exception {
    // s3proxy predates the SDK's default trailing checksums; the connectors say so too (when-required)
    System.setProperty("aws.requestChecksumCalculation", "WHEN_REQUIRED");
    System.setProperty("aws.responseChecksumValidation", "WHEN_REQUIRED");
    Path blobs = Files.createDirectories(dir.resolve("s3"));
    Properties props = new Properties();
    props.setProperty("jclouds.filesystem.basedir", blobs.toString());
    BlobStoreContext context = ContextBuilder.newBuilder("filesystem").credentials("identity", "credential")
        .overrides(props).build(BlobStoreContext.class);
    context.getBlobStore().createContainerInLocation(null, BUCKET);
    S3Proxy s3 = S3Proxy.builder().blobStore(context.getBlobStore()).endpoint(URI.create("http://127.0.0.1:0"))
        .awsAuthentication(AuthenticationType.AWS_V2_OR_V4, ACCESS_KEY, SECRET_KEY).build();
    s3.start();
    long deadline = System.nanoTime() + 30_000_000_000L;
    while (!"STARTED".equals(s3.getState())) {
      if (System.nanoTime() > deadline) {
        throw new IllegalStateException("s3proxy did not start: " + s3.getState());
      }
      Thread.onSpinWait();
    }
    String endpoint = "http://127.0.0.1:" + s3.getPort();
    int port;
    try (ServerSocket probe = new ServerSocket(0)) {
      port = probe.getLocalPort();
    }
    Map<String, String> server = new HashMap<>(s3Properties(endpoint));
    server.put("s3.access-key-id", ACCESS_KEY);
    server.put("s3.secret-access-key", SECRET_KEY);
    server.put("warehouse", "s3://" + BUCKET + "/warehouse");
    server.put("rest.port", Integer.toString(port));
    server.put("uri", "jdbc:sqlite:" + dir.resolve("catalog.db"));
    LoopbackRestCatalogServer catalog = LoopbackRestCatalogServer.start(server);
    return new Lakehouse(s3, catalog, endpoint, "http://127.0.0.1:" + port);
  }

  /** What a client needs besides credentials: S3FileIO against this server. */
  public static Map<String, String> s3Properties(String endpoint) {
    return Map.of("io-impl", "org.apache.iceberg.aws.s3.S3FileIO", "s3.endpoint", endpoint,
        "s3.path-style-access", "true", "client.region", "us-east-1", "http-client.type", "urlconnection");
  }

  public String s3Endpoint() {
    return s3Endpoint;
  }

  public String catalogUri() {
    return catalogUri;
  }

  /** An engine's view of the catalog (with the S3 keys): to create, write and inspect tables. */
  public org.apache.iceberg.rest.RESTCatalog engineCatalog() {
    org.apache.iceberg.rest.RESTCatalog c = new org.apache.iceberg.rest.RESTCatalog();
    Map<String, String> p = new HashMap<>(s3Properties(s3Endpoint));
    p.put("s3.access-key-id", ACCESS_KEY);
    p.put("s3.secret-access-key", SECRET_KEY);
    p.put("uri", catalogUri);
    c.initialize("engine", p);
    return c;
  }

  /** The store as an engine's FileIO (with the S3 keys), to put plain files into it. */
  public org.apache.iceberg.io.FileIO fileIO() {
    org.apache.iceberg.aws.s3.S3FileIO io = new org.apache.iceberg.aws.s3.S3FileIO();
    Map<String, String> p = new HashMap<>(s3Properties(s3Endpoint));
    p.put("s3.access-key-id", ACCESS_KEY);
    p.put("s3.secret-access-key", SECRET_KEY);
    io.initialize(p);
    return io;
  }

  /** A credentials file with the S3 keys, for a connector's credentials-file property. */
  public Path credentialsFile(Path dir) throws java.io.IOException {
    Path file = dir.resolve("lake.credentials");
    Files.writeString(file, "s3.access-key-id=" + ACCESS_KEY + "\ns3.secret-access-key=" + SECRET_KEY + "\n");
    return file;
  }

  @Override
  public void close() throws Exception {
    catalog.close();
    s3.stop();
  }
}
