package dev.conveyor.reconcile.iceberg;

import dev.conveyor.api.reconcile.ConnectorSpec;
import org.apache.hadoop.conf.Configuration;
import org.apache.iceberg.Table;
import org.apache.iceberg.exceptions.NoSuchTableException;
import org.apache.iceberg.hadoop.HadoopTables;

/** Loads the Iceberg table a capture connector names: a filesystem (Hadoop) table at its location. */
public final class IcebergTables {
  private IcebergTables() {}

  public static Table load(ConnectorSpec connector) {
    String location = connector.getLocation();
    try {
      return new HadoopTables(new Configuration()).load(location);
    } catch (NoSuchTableException e) {
      throw new IllegalArgumentException("connector.location " + location + " is not an Iceberg table: "
          + e.getMessage());
    }
  }
}
