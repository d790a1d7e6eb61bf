package dev.conveyor.durability.cursors;

import dev.conveyor.durability.signals.Signals;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.OptimisticConflictException;
import dev.conveyor.ledger.Tx;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Duration;
import java.util.Optional;

/**
 * Durable consumer cursors: a position per (consumer, stream, partition) that only moves forward, and a
 * lease on it. Each acquisition starts a new epoch; a commit must carry the current epoch, so a consumer
 * process that was replaced (it paused, its lease lapsed, another took over) cannot move the cursor of its
 * successor. A lapsed lease that nobody took over still commits with its epoch, and the commit renews it.
 *
 * <p>SQL issued: each call reads the cursor row {@code FOR UPDATE} by its primary key, then inserts or
 * updates that one row; a commit also reads the partition's {@code next_seq}.
 */
public final class Cursors {
  private final Ledger ledger;

  public Cursors(Ledger ledger) {
    this.ledger = ledger;
  }

  public record CursorView(String consumer, String stream, String partition, long position, String holder,
      long epoch, long leaseExpiresAtMillis) {}

  public record Acquisition(boolean acquired, CursorView cursor) {}

  private static final String COLUMNS = "consumer, stream, partition_key, position, holder, epoch,"
      + " COALESCE(lease_expires_at, 0)";

  private static Optional<CursorView> find(Tx tx, String consumer, String stream, String partition, boolean lock)
      throws SQLException {
    return tx.queryOne("SELECT " + COLUMNS + " FROM durable_cursors WHERE consumer = ? AND stream = ?"
        + " AND partition_key = ?" + (lock ? tx.dialect().forUpdate() : ""), Cursors::map, consumer, stream,
        partition);
  }

  private static CursorView map(ResultSet rs) throws SQLException {
    return new CursorView(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getString(5),
        rs.getLong(6), rs.getLong(7));
  }

  public Acquisition acquire(String consumer, String stream, String partition, String holder, Duration ttl) {
    return ledger.transact(tx -> {
      long now = tx.nowMillis();
      long expires = now + ttl.toMillis();
      Optional<CursorView> row = find(tx, consumer, stream, partition, true);
      if (row.isEmpty()) {
        // the first epoch is the ledger's time, so a cursor retention forgot and a consumer made again never
        // hands out an epoch a long-paused holder of the old one still carries
        long first = Math.max(1, now);
        int n = tx.update("INSERT INTO durable_cursors (consumer, stream, partition_key, position, holder, epoch,"
            + " lease_ttl_ms, lease_expires_at, updated_at) VALUES (?, ?, ?, 0, ?, ?, ?, ?, ?) ON CONFLICT DO NOTHING",
            consumer, stream, partition, holder, first, ttl.toMillis(), expires, now);
        if (n == 0) {
          throw new OptimisticConflictException("cursor " + consumer + " acquired concurrently"); // retried
        }
        return new Acquisition(true, new CursorView(consumer, stream, partition, 0, holder, first, expires));
      }
      CursorView c = row.get();
      if (c.holder() != null && !c.holder().equals(holder) && c.leaseExpiresAtMillis() > now) {
        return new Acquisition(false, c);
      }
      long epoch = Math.max(c.epoch() + 1, now);
      tx.update("UPDATE durable_cursors SET holder = ?, epoch = ?, lease_ttl_ms = ?, lease_expires_at = ?,"
          + " updated_at = ? WHERE consumer = ? AND stream = ? AND partition_key = ?", holder, epoch, ttl.toMillis(),
          expires, now, consumer, stream, partition);
      return new Acquisition(true, new CursorView(consumer, stream, partition, c.position(), holder, epoch, expires));
    });
  }

  /** Moves the cursor to {@code sequence} (never back) and renews the lease, if {@code epoch} is still current. */
  public CursorView commit(String consumer, String stream, String partition, long sequence, long epoch) {
    return ledger.transact(tx -> {
      long now = tx.nowMillis();
      Optional<CursorView> row = find(tx, consumer, stream, partition, true);
      if (row.isEmpty()) {
        throw new CursorFencedException("consumer " + consumer + " holds no lease on " + stream + "/" + partition
            + "; acquire the cursor first");
      }
      CursorView c = row.get();
      if (c.epoch() != epoch) {
        throw new CursorFencedException("epoch " + epoch + " of consumer " + consumer + " on " + stream + "/"
            + partition + " was replaced by epoch " + c.epoch() + " (held by " + c.holder() + ")");
      }
      long last = Signals.lastSequence(tx, stream, partition);
      if (sequence > last) {
        throw new IllegalArgumentException("sequence " + sequence + " is past the last signal of " + stream + "/"
            + partition + " (" + last + ")");
      }
      long position = Math.max(c.position(), sequence);
      long ttl = tx.queryLong("SELECT lease_ttl_ms FROM durable_cursors WHERE consumer = ? AND stream = ?"
          + " AND partition_key = ?", consumer, stream, partition);
      long expires = now + ttl;
      tx.update("UPDATE durable_cursors SET position = ?, lease_expires_at = ?, updated_at = ? WHERE consumer = ?"
          + " AND stream = ? AND partition_key = ?", position, expires, now, consumer, stream, partition);
      return new CursorView(consumer, stream, partition, position, c.holder(), epoch, expires);
    });
  }

  /** The stored cursor, or position 0 with no holder when the consumer never acquired one. */
  public CursorView get(String consumer, String stream, String partition) {
    return ledger.read(tx -> find(tx, consumer, stream, partition, false))
        .orElse(new CursorView(consumer, stream, partition, 0, "", 0, 0));
  }
}
