package dev.conveyor.reconcile.lake;

import dev.conveyor.api.reconcile.ConnectorSpec;
import java.util.LinkedHashMap;
import java.util.Map;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/** Iceberg catalog and FileIO properties for a connector, and the process-wide S3 checksum mode. */
public final class LakeAccess {
  private static final Logger log = LoggerFactory.getLogger(LakeAccess.class);
  private static volatile boolean checksumsWhenRequired;

  private LakeAccess() {}

  static boolean whenRequired(ConnectorSpec connector) {
    return "when-required".equals(connector.getPropertiesOrDefault(LakeConfig.REQUEST_CHECKSUMS, ""));
  }

  /**
   * Iceberg's S3FileIO builds its own SDK clients and reads the SDK's checksum mode only from system
   * properties, so a connector asking for {@code when-required} sets them for the process (logged once).
   */
  static void applyChecksumMode(ConnectorSpec connector) {
    if (whenRequired(connector) && !checksumsWhenRequired) {
      synchronized (LakeAccess.class) {
        if (!checksumsWhenRequired) {
          System.setProperty("aws.requestChecksumCalculation", "WHEN_REQUIRED");
          System.setProperty("aws.responseChecksumValidation", "WHEN_REQUIRED");
          checksumsWhenRequired = true;
          log.info("S3 request checksums are sent only when an operation requires them, for the whole process"
              + " (a connector asked for s3.request-checksums=when-required)");
        }
      }
    }
  }

  /** Properties for Iceberg's catalog and FileIO: S3FileIO over the JDK HTTP client when S3 is involved. */
  public static Map<String, String> icebergProperties(ConnectorSpec connector) {
    applyChecksumMode(connector);
    Map<String, String> p = new LinkedHashMap<>(LakeConfig.withSecrets(connector));
    p.remove(LakeConfig.CATALOG);
    p.remove(LakeConfig.REQUEST_CHECKSUMS);
    boolean s3 = LakeConfig.objectStore(connector.getLocation()) || p.keySet().stream().anyMatch(k -> k.startsWith("s3."))
        || LakeConfig.restCatalog(connector);
    if (s3) {
      p.putIfAbsent("io-impl", "org.apache.iceberg.aws.s3.S3FileIO");
      p.putIfAbsent("http-client.type", "urlconnection");
      p.putIfAbsent("client.region", "us-east-1");
    }
    return p;
  }
}
