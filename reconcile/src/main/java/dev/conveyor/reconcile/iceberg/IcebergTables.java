package dev.conveyor.reconcile.iceberg;

import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.reconcile.lake.LakeAccess;
import dev.conveyor.reconcile.lake.LakeConfig;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.Table;
import org.apache.iceberg.catalog.TableIdentifier;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.hadoop.HadoopTables;
import org.apache.iceberg.rest.RESTCatalog;

/**
 * Loads the Iceberg table a capture connector names: with {@code catalog=rest}, the table whose
 * identifier ({@code namespace.table}) is the connector's location, from the REST catalog at its
 * {@code uri} (bearer token or OAuth2 client credentials from the credentials file; data and metadata
 * through S3FileIO); otherwise a filesystem (Hadoop) table at the location. REST catalogs are kept
 * per distinct configuration for the life of the process (each holds an HTTP client and its FileIO).
 */
public final class IcebergTables {
  private static final Map<Map<String, String>, RESTCatalog> CATALOGS = new ConcurrentHashMap<>();

  private IcebergTables() {}

  public static Table load(ConnectorSpec connector) {
    String location = connector.getLocation();
    if (LakeConfig.restCatalog(connector)) {
      Map<String, String> properties = LakeAccess.icebergProperties(connector);
      TableIdentifier id;
      try {
        id = TableIdentifier.parse(location);
      } catch (IllegalArgumentException e) {
        throw new IllegalArgumentException("connector.location '" + location + "' must be a table identifier"
            + " (namespace.table) in REST catalog " + properties.get("uri"));
      }
      RESTCatalog catalog = CATALOGS.computeIfAbsent(Map.copyOf(properties), p -> {
        RESTCatalog c = new RESTCatalog();
        c.initialize("conveyor", p);
        return c;
      });
      try {
        return catalog.loadTable(id);
      } catch (NoSuchTableException e) {
        throw new IllegalArgumentException("REST catalog " + properties.get("uri") + " has no table " + id + ": "
            + e.getMessage());
      }
    }
    if (LakeConfig.objectStore(location)) {
      throw new IllegalArgumentException("connector.location " + location + ": an Iceberg table on object storage is"
          + " read through its catalog; register it with catalog=rest, the catalog's uri and the table identifier");
    }
    try {
      return new HadoopTables(new Configuration()).load(location);
    } catch (NoSuchTableException e) {
      throw new IllegalArgumentException("connector.location " + location + " is not an Iceberg table: "
          + e.getMessage());
    }
  }
}
