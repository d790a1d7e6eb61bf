package dev.conveyor.submitqueue.request;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.api.runway.MergeResult;
import dev.conveyor.api.submitqueue.BuildSignal;
import dev.conveyor.api.submitqueue.HistoryEntry;
import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;

/**
 * The effects done for a request, read from their claims: each build of a batch it was in
 * ({@code submitqueue.build}/job id, whose result is the verdict) and each of those batches' merges
 * ({@code runway.merge}/queue/batch id, whose result is Runway's answer). A summary computed at each read,
 * never a second copy: what the claims say is what the history shows.
 */
public final class RequestEffects {
  public static final String BUILD_SCOPE = "submitqueue.build";
  public static final String MERGE_SCOPE = "runway.merge";
  private static final int MAX = 200;

  private RequestEffects() {}

  public static List<HistoryEntry> of(Tx tx, String requestId) throws SQLException {
    List<HistoryEntry> out = new ArrayList<>();
    tx.query("SELECT c.effect_key, c.state, c.result, c.updated_at FROM sq_batch_members m"
        + " JOIN sq_paths p ON p.batch_id = m.batch_id"
        + " JOIN effect_claims c ON c.scope = ? AND c.effect_key = p.job_id"
        + " WHERE m.request_id = ? AND p.job_id IS NOT NULL ORDER BY c.updated_at LIMIT ?", rs -> {
          out.add(entry("build " + rs.getString(1) + " " + build(rs.getString(2), rs.getBytes(3)), rs.getLong(4)));
          return null;
        }, BUILD_SCOPE, requestId, MAX);
    tx.query("SELECT b.batch_id, c.state, c.result, c.updated_at FROM sq_batch_members m"
        + " JOIN sq_batches b ON b.batch_id = m.batch_id"
        + " JOIN effect_claims c ON c.scope = ? AND c.effect_key = b.queue || '/' || b.batch_id"
        + " WHERE m.request_id = ? ORDER BY c.updated_at LIMIT ?", rs -> {
          out.add(entry("merge of batch " + rs.getString(1) + " " + merge(rs.getString(2), rs.getBytes(3)),
              rs.getLong(4)));
          return null;
        }, MERGE_SCOPE, requestId, MAX);
    out.sort(Comparator.comparingLong(HistoryEntry::getAtMs));
    return out;
  }

  /** The request's state changes and its effects in one timeline (a state change first at the same time). */
  public static List<HistoryEntry> timeline(List<HistoryEntry> states, List<HistoryEntry> effects) {
    List<HistoryEntry> all = new ArrayList<>(states);
    all.addAll(effects);
    all.sort(Comparator.comparingLong(HistoryEntry::getAtMs)
        .thenComparing(e -> e.getEffect().isEmpty() ? 0 : 1));
    return all;
  }

  private static HistoryEntry entry(String effect, long at) {
    return HistoryEntry.newBuilder().setEffect(effect).setAtMs(at).build();
  }

  private static String build(String state, byte[] result) {
    if (!state.equals("COMPLETED") || result == null) {
      return state.toLowerCase(java.util.Locale.ROOT);
    }
    try {
      BuildSignal verdict = BuildSignal.parseFrom(result);
      return verdict.getPassed() ? "passed" : "failed" + (verdict.getReason().isEmpty() ? "" : ": " + verdict.getReason());
    } catch (InvalidProtocolBufferException e) {
      return "completed";
    }
  }

  private static String merge(String state, byte[] result) {
    if (!state.equals("COMPLETED") || result == null) {
      return state.toLowerCase(java.util.Locale.ROOT);
    }
    try {
      MergeResult merged = MergeResult.parseFrom(result);
      return merged.getOutcome() == dev.conveyor.api.runway.Outcome.SUCCEEDED ? "pushed"
          : "failed" + (merged.getReason().isEmpty() ? "" : ": " + merged.getReason());
    } catch (InvalidProtocolBufferException e) {
      return "completed";
    }
  }
}
