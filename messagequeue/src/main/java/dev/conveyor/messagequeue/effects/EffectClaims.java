package dev.conveyor.messagequeue.effects;

import dev.conveyor.ledger.Ids;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.OptimisticConflictException;
import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

/**
 * Effect claims: the single authority on whether a side effect (a push, a stats write) ran. A
 * claim is held under a lease and fenced by a token; completion is terminal and immutable and
 * stores a bounded result; a lapsed holder is taken over, and its late release or completion is
 * refused. A scope's summary is a query over these rows, never a second copy.
 */
public final class EffectClaims {
  public static final int MAX_RESULT_BYTES = 64 * 1024;

  private final Ledger ledger;

  public EffectClaims(Ledger ledger) {
    this.ledger = ledger;
  }

  private record Row(String state, String holder, String token, long expiresAt, byte[] result, int transitions) {}

  private static Optional<Row> find(Tx tx, String scope, String key) throws SQLException {
    return tx.queryOne("SELECT state, holder, token, COALESCE(expires_at, 0), result, transitions FROM effect_claims"
        + " WHERE scope = ? AND effect_key = ?" + tx.dialect().forUpdate(),
        rs -> new Row(rs.getString(1), rs.getString(2), rs.getString(3), rs.getLong(4), rs.getBytes(5), rs.getInt(6)),
        scope, key);
  }

  public ClaimResult claim(String scope, String key, String holder, Duration lease) {
    return claim(scope, key, holder, lease, false);
  }

  /**
   * As {@link #claim(String, String, String, Duration)}; with {@code reacquireOwn}, a claim {@code holder} itself
   * holds is taken again with a new token (a client that lost the answer to its claim retries without waiting
   * out its own lease; holders must then be unique per live process).
   */
  public ClaimResult claim(String scope, String key, String holder, Duration lease, boolean reacquireOwn) {
    validate(scope, key);
    if (holder == null || holder.isBlank()) {
      throw new IllegalArgumentException("holder must not be empty");
    }
    return ledger.transact(tx -> {
      long now = tx.nowMillis();
      long expires = now + lease.toMillis();
      String token = Ids.opaque();
      Optional<Row> row = find(tx, scope, key);
      if (row.isEmpty()) {
        int n = tx.update("INSERT INTO effect_claims (scope, effect_key, state, holder, token, expires_at, transitions,"
            + " created_at, updated_at, version) VALUES (?, ?, 'HELD', ?, ?, ?, 0, ?, ?, 0) ON CONFLICT DO NOTHING",
            scope, key, holder, token, expires, now, now);
        if (n == 0) {
          throw new OptimisticConflictException("claim " + scope + "/" + key + " created concurrently");
        }
        return new ClaimResult.Acquired(token, 0, Instant.ofEpochMilli(expires));
      }
      Row r = row.get();
      if (r.state().equals("COMPLETED")) {
        return new ClaimResult.AlreadyCompleted(r.result());
      }
      boolean own = reacquireOwn && r.state().equals("HELD") && holder.equals(r.holder());
      if (r.state().equals("HELD") && r.expiresAt() > now && !own) {
        return new ClaimResult.Held(r.holder(), Instant.ofEpochMilli(r.expiresAt()));
      }
      int transitions = own ? r.transitions() : r.transitions() + 1;
      tx.update("UPDATE effect_claims SET state = 'HELD', holder = ?, token = ?, expires_at = ?, transitions = ?,"
          + " updated_at = ?, version = version + 1 WHERE scope = ? AND effect_key = ?", holder, token, expires,
          transitions, now, scope, key);
      return new ClaimResult.Acquired(token, transitions, Instant.ofEpochMilli(expires));
    });
  }

  /** Extends a held claim; false when the token no longer owns it or the lease already lapsed. */
  public boolean renew(String scope, String key, String token, Duration lease) {
    return ledger.transact(tx -> tx.update("UPDATE effect_claims SET expires_at = ?, updated_at = ?,"
        + " version = version + 1 WHERE scope = ? AND effect_key = ? AND token = ? AND state = 'HELD'"
        + " AND expires_at > ?", tx.nowMillis() + lease.toMillis(), tx.nowMillis(), scope, key, token,
        tx.nowMillis()) == 1);
  }

  /**
   * Records the effect as done, for good. A lapsed-but-not-taken-over holder may still complete
   * (the effect did run); a holder whose claim was taken over may not.
   */
  public void complete(String scope, String key, String token, byte[] result) {
    byte[] stored = result == null ? new byte[0] : result;
    if (stored.length > MAX_RESULT_BYTES) {
      throw new IllegalArgumentException("effect result is " + stored.length + " bytes; at most " + MAX_RESULT_BYTES);
    }
    ledger.transact(tx -> {
      int n = tx.update("UPDATE effect_claims SET state = 'COMPLETED', result = ?, completed_at = ?, expires_at = NULL,"
          + " updated_at = ?, version = version + 1 WHERE scope = ? AND effect_key = ? AND token = ? AND state = 'HELD'",
          stored, tx.nowMillis(), tx.nowMillis(), scope, key, token);
      if (n == 0 && !completedWith(tx, scope, key, token, stored)) {
        throw new ClaimLostException(scope, key, whyLost(tx, scope, key, token));
      }
      return null;
    });
  }

  /**
   * Records an effect that ran without a claim held during it, because something else made it exclusive (a
   * build's job lease): the first result recorded wins, and every caller gets that one back. Lets a job whose
   * completion was lost finish from the effect's stored result instead of running it again.
   */
  public byte[] completeOnce(String scope, String key, String holder, byte[] result) {
    return completeOnce(scope, key, holder, result, tx -> null);
  }

  /**
   * As above, after {@code guard} in the same transaction: it throws when the caller may no longer record the
   * effect (a build whose job lease lapsed), so a stale attempt never sets the verdict.
   */
  public byte[] completeOnce(String scope, String key, String holder, byte[] result, Tx.Work<?> guard) {
    validate(scope, key);
    if (result.length > MAX_RESULT_BYTES) {
      throw new IllegalArgumentException("effect result is " + result.length + " bytes; at most " + MAX_RESULT_BYTES);
    }
    return ledger.transact(tx -> {
      guard.run(tx);
      long now = tx.nowMillis();
      Optional<Row> row = find(tx, scope, key);
      if (row.isEmpty()) {
        int n = tx.update("INSERT INTO effect_claims (scope, effect_key, state, holder, token, expires_at, result,"
            + " transitions, created_at, updated_at, completed_at, version) VALUES (?, ?, 'COMPLETED', ?, NULL, NULL,"
            + " ?, 0, ?, ?, ?, 0) ON CONFLICT DO NOTHING", scope, key, holder, result, now, now, now);
        if (n == 0) {
          throw new OptimisticConflictException("claim " + scope + "/" + key + " created concurrently");
        }
        return result;
      }
      if (row.get().state().equals("COMPLETED")) {
        return row.get().result() == null ? new byte[0] : row.get().result();
      }
      tx.update("UPDATE effect_claims SET state = 'COMPLETED', holder = ?, token = NULL, expires_at = NULL, result = ?,"
          + " transitions = transitions + 1, updated_at = ?, completed_at = ?, version = version + 1"
          + " WHERE scope = ? AND effect_key = ?", holder, result, now, now, scope, key);
      return result;
    });
  }

  /** A retried completion: the same token already completed the claim with the same result. */
  private static boolean completedWith(Tx tx, String scope, String key, String token, byte[] result)
      throws SQLException {
    Optional<Row> r = find(tx, scope, key);
    return r.isPresent() && r.get().state().equals("COMPLETED") && token.equals(r.get().token())
        && java.util.Arrays.equals(r.get().result() == null ? new byte[0] : r.get().result(), result);
  }

  /** Gives the claim up without completing it; refused for a stale token. */
  public void release(String scope, String key, String token) {
    ledger.transact(tx -> {
      int n = tx.update("UPDATE effect_claims SET state = 'RELEASED', holder = NULL, token = NULL, expires_at = NULL,"
          + " updated_at = ?, version = version + 1 WHERE scope = ? AND effect_key = ? AND token = ? AND state = 'HELD'",
          tx.nowMillis(), scope, key, token);
      if (n == 0) {
        throw new ClaimLostException(scope, key, whyLost(tx, scope, key, token));
      }
      return null;
    });
  }

  private static String whyLost(Tx tx, String scope, String key, String token) throws SQLException {
    Optional<Row> r = find(tx, scope, key);
    if (r.isEmpty()) {
      return "no such claim";
    }
    if (r.get().state().equals("COMPLETED")) {
      return "the effect was already completed";
    }
    return token.equals(r.get().token()) ? "the claim is " + r.get().state() : "it is now held by " + r.get().holder();
  }

  /** Why {@code token} no longer owns the claim, in words (for a refusal). */
  public String whyLost(String scope, String key, String token) {
    return ledger.transact(tx -> whyLost(tx, scope, key, token)); // whyLost reads FOR UPDATE
  }

  /** One claim, whole: what a client of the durability service reads. */
  public record EffectView(String scope, String key, String state, String holder, long expiresAtMillis,
      int transitions, byte[] result, long updatedAtMillis, long completedAtMillis) {}

  private static final String VIEW = "SELECT scope, effect_key, state, holder, COALESCE(expires_at, 0), transitions,"
      + " result, updated_at, COALESCE(completed_at, 0) FROM effect_claims";

  private static EffectView view(java.sql.ResultSet rs) throws SQLException {
    return new EffectView(rs.getString(1), rs.getString(2), rs.getString(3), rs.getString(4), rs.getLong(5),
        rs.getInt(6), rs.getBytes(7), rs.getLong(8), rs.getLong(9));
  }

  public Optional<EffectView> view(String scope, String key) {
    return ledger.read(tx -> tx.queryOne(VIEW + " WHERE scope = ? AND effect_key = ?", EffectClaims::view, scope, key));
  }

  /** Where a listing stopped: the last claim's change time, scope and key. */
  public record ListPosition(long updatedAtMillis, String scope, String key) {}

  /**
   * Claims, newest change first, of one scope or of every scope starting with {@code scopePrefix} ({@code scope}
   * null), and one state or every one ({@code state} null), after {@code after} (null from the start).
   */
  public List<EffectView> list(String scope, String scopePrefix, String state, int limit, ListPosition after) {
    StringBuilder where = new StringBuilder(" WHERE 1 = 1");
    List<Object> args = new java.util.ArrayList<>();
    if (scope != null) {
      where.append(" AND scope = ?");
      args.add(scope);
    } else if (scopePrefix != null && !scopePrefix.isEmpty()) {
      where.append(" AND substr(scope, 1, ").append(scopePrefix.length()).append(") = ?"); // exact, unlike LIKE
      args.add(scopePrefix);
    }
    if (state != null) {
      where.append(" AND state = ?");
      args.add(state);
    }
    if (after != null) {
      where.append(" AND (updated_at < ? OR (updated_at = ? AND (scope > ? OR (scope = ? AND effect_key > ?))))");
      args.addAll(List.of(after.updatedAtMillis(), after.updatedAtMillis(), after.scope(), after.scope(),
          after.key()));
    }
    args.add(limit);
    return ledger.read(tx -> tx.query(VIEW + where + " ORDER BY updated_at DESC, scope, effect_key LIMIT ?",
        EffectClaims::view, args.toArray()));
  }

  /** One claim as the summary shows it. */
  public record ClaimView(String key, String state, String holder, int transitions, Instant updatedAt) {}

  /** Counts by state plus the most recent claims: the bounded view of a scope, read from the claims. */
  public record Summary(long held, long completed, long released, List<ClaimView> recent) {}

  public Summary summary(String scope, int limit) {
    return ledger.transact(tx -> {
      long held = tx.queryLong("SELECT COUNT(*) FROM effect_claims WHERE scope = ? AND state = 'HELD'", scope);
      long completed = tx.queryLong("SELECT COUNT(*) FROM effect_claims WHERE scope = ? AND state = 'COMPLETED'", scope);
      long released = tx.queryLong("SELECT COUNT(*) FROM effect_claims WHERE scope = ? AND state = 'RELEASED'", scope);
      List<ClaimView> recent = tx.query("SELECT effect_key, state, holder, transitions, updated_at FROM effect_claims"
          + " WHERE scope = ? ORDER BY updated_at DESC, effect_key LIMIT ?", rs -> new ClaimView(rs.getString(1),
          rs.getString(2), rs.getString(3), rs.getInt(4), Instant.ofEpochMilli(rs.getLong(5))), scope, limit);
      return new Summary(held, completed, released, recent);
    });
  }

  private static void validate(String scope, String key) {
    if (scope == null || scope.isBlank()) {
      throw new IllegalArgumentException("claim scope must not be empty");
    }
    if (key == null || key.isBlank()) {
      throw new IllegalArgumentException("effect key must not be empty");
    }
  }
}
