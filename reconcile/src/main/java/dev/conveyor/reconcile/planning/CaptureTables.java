package dev.conveyor.reconcile.planning;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.api.reconcile.ConnectorSpec;
import dev.conveyor.ledger.Ledger;
import java.util.Optional;

/** Registered capture sources: a table id and the connector that lists its files. */
public final class CaptureTables {
  private final Ledger ledger;

  public CaptureTables(Ledger ledger) {
    this.ledger = ledger;
  }

  /** Registers or re-points a table; answers true when it was new. */
  public boolean register(String tableId, ConnectorSpec connector) {
    if (tableId == null || tableId.isBlank()) {
      throw new IllegalArgumentException("table_id must not be empty");
    }
    if (connector.getKind() != ConnectorSpec.Kind.PARQUET_DIRECTORY && connector.getKind() != ConnectorSpec.Kind.ICEBERG) {
      throw new IllegalArgumentException("connector.kind must be PARQUET_DIRECTORY or ICEBERG, got "
          + connector.getKind());
    }
    if (connector.getLocation().isBlank()) {
      throw new IllegalArgumentException("connector.location must name a directory of Parquet files or an Iceberg"
          + " table location");
    }
    dev.conveyor.reconcile.lake.LakeConfig.validate(connector);
    return ledger.transact(tx -> {
      int updated = tx.update("UPDATE capture_tables SET connector = ?, updated_at = ? WHERE table_id = ?",
          connector.toByteArray(), tx.nowMillis(), tableId);
      if (updated == 1) {
        return false;
      }
      tx.update("INSERT INTO capture_tables (table_id, connector, created_at, updated_at) VALUES (?, ?, ?, ?)",
          tableId, connector.toByteArray(), tx.nowMillis(), tx.nowMillis());
      return true;
    });
  }

  public Optional<ConnectorSpec> connector(String tableId) {
    Optional<byte[]> bytes = ledger.transact(tx -> tx.queryOne("SELECT connector FROM capture_tables WHERE table_id = ?",
        rs -> rs.getBytes(1), tableId));
    if (bytes.isEmpty()) {
      return Optional.empty();
    }
    try {
      return Optional.of(ConnectorSpec.parseFrom(bytes.get()));
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("stored connector of table " + tableId + " is unreadable", e);
    }
  }
}
