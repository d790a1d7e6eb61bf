package dev.conveyor.app.audit;

import dev.conveyor.ledger.Ledger;
import java.util.List;
import java.util.Optional;
import java.util.UUID;

/**
 * The operators' audit log: one row per action taken from the status page — who (the token's subject), what,
 * on which target, when (ledger time), and its outcome — read newest first, a page at a time. Text is cut to
 * the column sizes, so no caller can make a row larger than about 2 KB.
 */
public final class AuditLog {
  public static final int MAX_PAGE = 200;
  private final Ledger ledger;

  public AuditLog(Ledger ledger) {
    this.ledger = ledger;
  }

  /** How an action ended. */
  public enum Outcome { DONE, REFUSED, FAILED }

  /** One entry; {@code cursor()} pages past it. */
  public record Entry(String id, long atMs, String actor, String action, String target, Outcome outcome,
      String detail) {
    public String cursor() {
      return atMs + ":" + id;
    }
  }

  /** A page, newest first, with the cursor of the next older page (empty at the end). */
  public record Page(List<Entry> entries, Optional<String> next) {}

  public Entry record(String actor, String action, String target, Outcome outcome, String detail) {
    return ledger.transact(tx -> {
      Entry e = new Entry(UUID.randomUUID().toString(), tx.nowMillis(), cut(actor, 256), cut(action, 64),
          cut(target, 512), outcome, cut(detail, 1024));
      tx.update("INSERT INTO audit_log (entry_id, at_ms, actor, action, target, outcome, detail)"
          + " VALUES (?, ?, ?, ?, ?, ?, ?)", e.id(), e.atMs(), e.actor(), e.action(), e.target(),
          e.outcome().name().toLowerCase(java.util.Locale.ROOT), e.detail());
      return e;
    });
  }

  /**
   * Up to {@code limit} entries older than {@code before} (a cursor from a previous page, or empty for the
   * newest); refuses a limit outside 1..{@value #MAX_PAGE} or a cursor that is not one.
   */
  public Page page(Optional<String> before, int limit) {
    if (limit < 1 || limit > MAX_PAGE) {
      throw new IllegalArgumentException("limit: 1 to " + MAX_PAGE + " entries, not " + limit);
    }
    long beforeAt;
    String beforeId;
    if (before.isPresent()) {
      String c = before.get();
      int colon = c.indexOf(':');
      try {
        beforeAt = Long.parseLong(c.substring(0, Math.max(colon, 0)));
      } catch (NumberFormatException e) {
        throw new IllegalArgumentException("before: not a cursor of this log ('" + cut(c, 80) + "')");
      }
      beforeId = c.substring(colon + 1);
    } else {
      beforeAt = Long.MAX_VALUE;
      beforeId = "";
    }
    List<Entry> rows = ledger.read(tx -> tx.query("SELECT entry_id, at_ms, actor, action, target, outcome, detail"
        + " FROM audit_log WHERE at_ms < ? OR (at_ms = ? AND entry_id < ?) ORDER BY at_ms DESC, entry_id DESC LIMIT ?",
        rs -> new Entry(rs.getString(1), rs.getLong(2), rs.getString(3), rs.getString(4), rs.getString(5),
            Outcome.valueOf(rs.getString(6).toUpperCase(java.util.Locale.ROOT)), rs.getString(7)),
        beforeAt, before.isPresent() ? beforeAt : Long.MIN_VALUE, beforeId, limit + 1));
    boolean more = rows.size() > limit;
    List<Entry> page = more ? rows.subList(0, limit) : rows;
    return new Page(List.copyOf(page), more ? Optional.of(page.get(limit - 1).cursor()) : Optional.empty());
  }

  static String cut(String s, int max) {
    String v = s == null ? "" : s.replaceAll("[\\p{Cntrl}]", " ");
    return v.length() <= max ? v : v.substring(0, max - 1) + "…";
  }
}
