package dev.conveyor.submitqueue.request;

import dev.conveyor.api.base.Strategy;
import dev.conveyor.api.submitqueue.HistoryEntry;
import dev.conveyor.api.submitqueue.RequestInfo.State;
import dev.conveyor.ledger.OptimisticConflictException;
import dev.conveyor.ledger.Tx;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Optional;

/** Land requests and their status history (the request log), in the caller's transaction. */
public final class Requests {
  private static final String COLUMNS = "request_id, queue, n, change_key, strategy, state, batch_id, reason, paths,"
      + " created_at, updated_at, version, priority";

  private static final org.slf4j.Logger outcomes = org.slf4j.LoggerFactory.getLogger("dev.conveyor.submitqueue.outcome");

  private Requests() {}

  /** The next request number of {@code queue}, starting at 1. */
  public static long allocate(Tx tx, String queue) throws SQLException {
    return tx.queryOne("INSERT INTO sq_queue_counters (queue, next_n) VALUES (?, 1) ON CONFLICT (queue)"
        + " DO UPDATE SET next_n = sq_queue_counters.next_n + 1 RETURNING next_n", rs -> rs.getLong(1), queue)
        .orElseThrow();
  }

  /** The live request holding this change, if any. */
  public static Optional<RequestRecord> liveHolder(Tx tx, String queue, List<String> uris) throws SQLException {
    return tx.queryOne("SELECT " + COLUMNS + " FROM sq_requests WHERE queue = ? AND change_key = ?"
        + " AND state NOT IN ('LANDED', 'ERROR', 'CANCELLED')", Requests::row, queue, RequestRecord.changeKey(uris));
  }

  /** Inserts a STARTED request and its first history entry. */
  public static RequestRecord create(Tx tx, String queue, long n, List<String> uris, Strategy strategy)
      throws SQLException {
    return create(tx, queue, n, uris, strategy, 0);
  }

  public static RequestRecord create(Tx tx, String queue, long n, List<String> uris, Strategy strategy, int priority)
      throws SQLException {
    long now = tx.nowMillis();
    RequestRecord r = new RequestRecord(queue + "/" + n, queue, n, uris, strategy, State.STARTED, null, null, null,
        now, now, 0, priority);
    try {
      tx.update("INSERT INTO sq_requests (" + COLUMNS + ") VALUES (?, ?, ?, ?, ?, ?, NULL, NULL, NULL, ?, ?, 0, ?)",
          r.requestId(), queue, n, RequestRecord.changeKey(uris), strategy.name(), r.state().name(), now, now, priority);
    } catch (SQLException e) {
      if (tx.dialect().isUniqueViolation(e)) {
        throw new OptimisticConflictException("the change was landed concurrently");
      }
      throw e;
    }
    log(tx, r.requestId(), State.STARTED, null);
    return r;
  }

  public static Optional<RequestRecord> find(Tx tx, String requestId) throws SQLException {
    return tx.queryOne("SELECT " + COLUMNS + " FROM sq_requests WHERE request_id = ?", Requests::row, requestId);
  }

  public static RequestRecord get(Tx tx, String requestId) throws SQLException {
    return find(tx, requestId).orElseThrow(() -> new IllegalStateException("no request " + requestId));
  }

  /**
   * Moves the request from the state it was read in to {@code to}, recording it in the history;
   * false (and nothing written) when the request changed since it was read.
   */
  public static boolean transition(Tx tx, RequestRecord from, State to, String reason) throws SQLException {
    int n = tx.update("UPDATE sq_requests SET state = ?, reason = ?, updated_at = ?, version = version + 1"
        + " WHERE request_id = ? AND version = ?", to.name(), reason, tx.nowMillis(), from.requestId(), from.version());
    if (n == 1) {
      log(tx, from.requestId(), to, reason);
      if (RequestRecord.TERMINAL.contains(to)) { // an operator reads every request's end in the server log
        tx.afterCommit(() -> outcomes.info("request {} {}{}", from.requestId(), to,
            reason == null || reason.isEmpty() ? "" : ": " + reason));
      }
    }
    return n == 1;
  }

  /** Moves the request into its batch (compare-and-swap like {@link #transition}). */
  public static boolean batched(Tx tx, RequestRecord from, String batchId) throws SQLException {
    int n = tx.update("UPDATE sq_requests SET state = 'BATCHED', batch_id = ?, updated_at = ?, version = version + 1"
        + " WHERE request_id = ? AND version = ?", batchId, tx.nowMillis(), from.requestId(), from.version());
    if (n == 1) {
      log(tx, from.requestId(), State.BATCHED, batchId);
    }
    return n == 1;
  }

  public static void setPaths(Tx tx, String requestId, Collection<String> paths) throws SQLException {
    tx.update("UPDATE sq_requests SET paths = ? WHERE request_id = ?", String.join("\n", paths), requestId);
  }

  public static List<RequestRecord> list(Tx tx, String queue, Collection<State> states, int limit, long afterN)
      throws SQLException {
    List<Object> args = new ArrayList<>();
    StringBuilder sql = new StringBuilder("SELECT " + COLUMNS + " FROM sq_requests WHERE n > ?");
    args.add(afterN);
    if (queue != null && !queue.isBlank()) {
      sql.append(" AND queue = ?");
      args.add(queue);
    }
    if (!states.isEmpty()) {
      sql.append(" AND state IN (").append(String.join(", ", states.stream().map(s -> "?").toList())).append(')');
      states.forEach(s -> args.add(s.name()));
    }
    sql.append(" ORDER BY n, queue LIMIT ").append(limit);
    return tx.query(sql.toString(), Requests::row, args.toArray());
  }

  public static List<HistoryEntry> history(Tx tx, String requestId) throws SQLException {
    return tx.query("SELECT state, reason, at FROM sq_request_log WHERE request_id = ? ORDER BY seq",
        rs -> HistoryEntry.newBuilder().setState(State.valueOf(rs.getString(1)))
            .setReason(rs.getString(2) == null ? "" : rs.getString(2)).setAtMs(rs.getLong(3)).build(), requestId);
  }

  private static void log(Tx tx, String requestId, State state, String reason) throws SQLException {
    tx.update("INSERT INTO sq_request_log (request_id, seq, state, reason, at) VALUES (?, (SELECT COALESCE(MAX(seq), 0)"
        + " + 1 FROM sq_request_log WHERE request_id = ?), ?, ?, ?)", requestId, requestId, state.name(), reason,
        tx.nowMillis());
  }

  private static RequestRecord row(ResultSet rs) throws SQLException {
    String paths = rs.getString("paths");
    return new RequestRecord(rs.getString("request_id"), rs.getString("queue"), rs.getLong("n"),
        Arrays.asList(rs.getString("change_key").split("\n")), Strategy.valueOf(rs.getString("strategy")),
        State.valueOf(rs.getString("state")), rs.getString("batch_id"), rs.getString("reason"),
        paths == null || paths.isEmpty() ? List.of() : Arrays.asList(paths.split("\n")), rs.getLong("created_at"),
        rs.getLong("updated_at"), rs.getLong("version"), rs.getInt("priority"));
  }
}
