package dev.conveyor.ledger.maintenance;

import dev.conveyor.ledger.Ids;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.OptimisticConflictException;
import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.Optional;

/**
 * Leadership of one named duty (such as maintenance) through a row of {@code ledger_leaders}: the
 * holder renews it before it expires; once it has expired anyone may take it, under a fresh epoch.
 * Expiry is judged by the ledger's clock ({@link Tx#now()}), on both backends alike; on SQLite there
 * is usually one node, which simply always leads.
 *
 * <p>The epoch fences a term: {@link #checkIn} locks the row inside the caller's transaction and
 * refuses unless the epoch still holds an unexpired lease, so work done under it commits only while
 * the term lasts, and a takeover waits for that transaction to end.
 */
public final class LeaderLease {
  /** How this node stands after {@link #tryLead}. */
  public sealed interface Standing permits Leading, Following {}

  /** This holder leads under {@code epoch} until {@code expiresAt}; {@code elected} on the first tick of a term. */
  public record Leading(String epoch, Instant expiresAt, boolean elected) implements Standing {}

  /** Another holder leads until {@code expiresAt} (unless it renews). */
  public record Following(String holder, Instant expiresAt) implements Standing {}

  /** The current holder of a lease, as stored. */
  public record Holder(String holder, String epoch, Instant acquiredAt, Instant expiresAt) {}

  /** The term {@code epoch} is over: another holder leads, or the lease expired. */
  public static final class NotLeaderException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    NotLeaderException(String message) {
      super(message);
    }
  }

  private final Ledger ledger;
  private final String name;
  private final String holder;
  private final Duration lease;
  private volatile String epoch;

  public LeaderLease(Ledger ledger, String name, String holder, Duration lease) {
    if (name == null || name.isBlank() || name.length() > 128) {
      throw new IllegalArgumentException("leader name must be 1 to 128 characters");
    }
    if (holder == null || holder.isBlank() || holder.length() > 256) {
      throw new IllegalArgumentException("leader holder must be 1 to 256 characters");
    }
    if (lease.isNegative() || lease.isZero()) {
      throw new IllegalArgumentException("leader lease must be positive, got " + lease);
    }
    this.ledger = ledger;
    this.name = name;
    this.holder = holder;
    this.lease = lease;
  }

  public String name() {
    return name;
  }

  public String holder() {
    return holder;
  }

  public Duration lease() {
    return lease;
  }

  /** The epoch of this holder's current term, or null when it does not lead (as far as it knows). */
  public String epoch() {
    return epoch;
  }

  /** Renews this holder's term, or takes an expired (or absent) lease, or reports who leads. */
  public Standing tryLead() {
    Standing s = ledger.transact(this::tryLead);
    epoch = s instanceof Leading l ? l.epoch() : null;
    return s;
  }

  private Standing tryLead(Tx tx) throws SQLException {
    long now = tx.nowMillis();
    long expires = now + lease.toMillis();
    Optional<Row> row = find(tx);
    if (row.isEmpty()) {
      String fresh = Ids.opaque();
      int n = tx.update("INSERT INTO ledger_leaders (name, holder, epoch, acquired_at, expires_at, version)"
          + " VALUES (?, ?, ?, ?, ?, 0) ON CONFLICT DO NOTHING", name, holder, fresh, now, expires);
      if (n == 0) {
        throw new OptimisticConflictException("leader lease " + name + " created concurrently");
      }
      return new Leading(fresh, Instant.ofEpochMilli(expires), true);
    }
    Row r = row.get();
    boolean mine = r.holder().equals(holder) && r.epoch().equals(epoch);
    if (r.expiresAt() > now && !mine) {
      return new Following(r.holder(), Instant.ofEpochMilli(r.expiresAt()));
    }
    // our own live term is renewed under its epoch; an expired one (even our own) starts a new term
    boolean renew = mine && r.expiresAt() > now;
    String next = renew ? r.epoch() : Ids.opaque();
    int n = tx.update("UPDATE ledger_leaders SET holder = ?, epoch = ?, acquired_at = ?, expires_at = ?,"
        + " version = version + 1 WHERE name = ? AND version = ?", holder, next, renew ? r.acquiredAt() : now,
        expires, name, r.version());
    if (n == 0) {
      throw new OptimisticConflictException("leader lease " + name + " changed concurrently");
    }
    return new Leading(next, Instant.ofEpochMilli(expires), !renew);
  }

  /**
   * Inside the caller's transaction: locks the lease row and refuses with {@link NotLeaderException}
   * unless {@code term} still holds it unexpired; past half its lease the term is extended, so a long
   * run of fenced transactions keeps it.
   */
  public void checkIn(Tx tx, String term) throws SQLException {
    if (term == null) {
      throw new NotLeaderException(holder + " does not lead " + name);
    }
    long now = tx.nowMillis();
    Row r = find(tx).orElseThrow(() -> new NotLeaderException("nobody leads " + name));
    if (!r.epoch().equals(term) || r.expiresAt() <= now) {
      throw new NotLeaderException(holder + " no longer leads " + name + (r.epoch().equals(term)
          ? " (its lease expired)" : " (" + r.holder() + " does)"));
    }
    if (r.expiresAt() - now < lease.toMillis() / 2) {
      tx.update("UPDATE ledger_leaders SET expires_at = ?, version = version + 1 WHERE name = ? AND epoch = ?",
          now + lease.toMillis(), name, term);
    }
  }

  /** Ends this holder's term now, so another node can lead at once (a clean shutdown). */
  public void release() {
    String term = epoch;
    epoch = null;
    if (term == null) {
      return;
    }
    ledger.transact(tx -> tx.update("UPDATE ledger_leaders SET expires_at = ?, version = version + 1"
        + " WHERE name = ? AND epoch = ? AND expires_at > ?", tx.nowMillis(), name, term, tx.nowMillis()));
  }

  /** Who holds the lease named {@code name}, expired or not. */
  public static Optional<Holder> current(Ledger ledger, String name) {
    return ledger.transact(tx -> tx.queryOne("SELECT holder, epoch, acquired_at, expires_at FROM ledger_leaders"
        + " WHERE name = ?", rs -> new Holder(rs.getString(1), rs.getString(2), Instant.ofEpochMilli(rs.getLong(3)),
        Instant.ofEpochMilli(rs.getLong(4))), name));
  }

  private record Row(String holder, String epoch, long acquiredAt, long expiresAt, long version) {}

  private Optional<Row> find(Tx tx) throws SQLException {
    return tx.queryOne("SELECT holder, epoch, acquired_at, expires_at, version FROM ledger_leaders WHERE name = ?"
        + tx.dialect().forUpdate(), rs -> new Row(rs.getString(1), rs.getString(2), rs.getLong(3), rs.getLong(4),
        rs.getLong(5)), name);
  }
}
