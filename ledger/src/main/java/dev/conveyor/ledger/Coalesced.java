package dev.conveyor.ledger;

import java.sql.SQLException;
import java.util.List;

/**
 * Work that the requests of many concurrent callers can share: group commit runs all requests of one
 * {@code Coalesced} instance that meet in a batch with a single call (one read, one batched write),
 * instead of once per caller inside a savepoint each.
 *
 * <p>The contract that makes this safe: {@link #runAll} decides every request before it writes, and
 * writes nothing for a request it refuses; a refusal is answered to that caller alone. If {@code runAll}
 * itself throws a deterministic failure, its writes are rolled back and each request is run again on
 * its own, so a caller never sees another caller's failure.
 *
 * @param <R> one caller's request
 * @param <T> one caller's answer
 */
public interface Coalesced<R, T> {
  /** One answer per request, in the order given. */
  List<Answer<T>> runAll(Tx tx, List<R> requests) throws SQLException;

  /** A caller's answer: its value, or the refusal it alone receives. */
  record Answer<T>(T value, RuntimeException refusal) {
    public static <T> Answer<T> of(T value) {
      return new Answer<>(value, null);
    }

    public static <T> Answer<T> refused(RuntimeException why) {
      return new Answer<>(null, why);
    }

    public T valueOrThrow() {
      if (refusal != null) {
        throw refusal;
      }
      return value;
    }
  }

  /** Runs one request alone (a batch that met no sibling, or the fallback after a failed shared run). */
  default T runOne(Tx tx, R request) throws SQLException {
    return runAll(tx, List.of(request)).get(0).valueOrThrow();
  }
}
