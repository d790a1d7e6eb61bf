package dev.conveyor.reconcile.planning;

import com.google.protobuf.CodedOutputStream;
import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.api.bounds.Bounds;
import dev.conveyor.api.reconcile.PlannedFile;
import dev.conveyor.ledger.Ids;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import java.io.ByteArrayInputStream;
import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.InputStream;
import java.io.UncheckedIOException;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;
import java.util.function.IntConsumer;

/**
 * A snapshot's file list in bounded pages ({@code capture_plan_pages}): the job that lists a snapshot
 * streams its files into pages of at most {@code pageBytes} (plus one entry) of length-delimited
 * {@code PlannedFile} messages, sorted by path within the page (the listing's own order across pages),
 * each page written in its own transaction fenced by the lister's lease;
 * the PLAN_SNAPSHOT that plans the snapshot reads them back one page at a time. A list is dropped once
 * its groups are planned; lists of a capture that ended before that are collected by
 * {@link #collectOrphans}.
 */
final class PlanPages {
  /** Default page size: a few thousand entries, far below any row limit. */
  static final int DEFAULT_PAGE_BYTES = 512 * 1024;

  private final Ledger ledger;
  private final int pageBytes;

  PlanPages(Ledger ledger, int pageBytes) {
    if (pageBytes < 1 || pageBytes > 2 * 1024 * 1024) {
      throw new IllegalArgumentException("page bytes must be between 1 and 2 MiB, got " + pageBytes);
    }
    this.ledger = ledger;
    this.pageBytes = pageBytes;
  }

  /**
   * Drops the lists {@code g}'s job wrote under earlier leases (a lister whose lease lapsed mid-way):
   * nothing refers to them, and this attempt lists again.
   */
  int dropEarlierAttempts(LeaseGrant g) {
    return ledger.transact(tx -> {
      ledger.jobs().requireHeld(tx, g.job().id(), g.epoch());
      return tx.update("DELETE FROM capture_plan_pages WHERE job_id = ? AND lease_epoch <> ?", g.job().id(),
          g.epoch());
    });
  }

  /**
   * A new list written under {@code g}'s lease; {@code check} runs before every page (it throws to
   * stop the listing) and {@code stored} after each page is written.
   */
  Writer writer(LeaseGrant g, Runnable check, IntConsumer stored) {
    return new Writer(g, check, stored);
  }

  /** Streams the list's files to {@code sink} in order, one page in memory at a time; answers the file count. */
  long forEach(String listId, Consumer<PlannedFile> sink) {
    long files = 0;
    for (int page = 0; ; page++) {
      int index = page;
      Optional<byte[]> data = ledger.transact(tx -> tx.queryOne("SELECT files FROM capture_plan_pages"
          + " WHERE list_id = ? AND page_index = ?", rs -> rs.getBytes(1), listId, index));
      if (data.isEmpty()) {
        return files;
      }
      try (InputStream in = new ByteArrayInputStream(data.get())) {
        PlannedFile f;
        while ((f = PlannedFile.parseDelimitedFrom(in)) != null) {
          sink.accept(f);
          files++;
        }
      } catch (InvalidProtocolBufferException e) {
        throw new IllegalStateException("page " + index + " of file list " + listId + " is unreadable", e);
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
    }
  }

  /** Files and pages a list holds, as stored. */
  record ListSize(long files, int pages) {}

  ListSize size(String listId) {
    return ledger.transact(tx -> tx.queryOne("SELECT COALESCE(SUM(file_count), 0), COUNT(*) FROM capture_plan_pages"
        + " WHERE list_id = ?", rs -> new ListSize(rs.getLong(1), rs.getInt(2)), listId)).orElseThrow();
  }

  int drop(String listId) {
    return ledger.transact(tx -> tx.update("DELETE FROM capture_plan_pages WHERE list_id = ?", listId));
  }

  /** Drops every list {@code jobId} wrote (its plan failed for good). */
  int dropJob(String jobId) {
    return ledger.transact(tx -> tx.update("DELETE FROM capture_plan_pages WHERE job_id = ?", jobId));
  }

  /**
   * Drops the lists of up to {@code limit} captures that ended (or are gone) before planning their
   * groups: a cancelled or failed capture leaves its lists behind. Answers the pages dropped.
   */
  int collectOrphans(int limit) {
    return ledger.transact(tx -> {
      List<String> roots = tx.query("SELECT DISTINCT p.root_id FROM capture_plan_pages p WHERE NOT EXISTS"
          + " (SELECT 1 FROM jobs j WHERE j.id = p.root_id AND j.state IN ('QUEUED', 'RUNNING', 'WAITING',"
          + " 'CANCELLING')) LIMIT ?", rs -> rs.getString(1), limit);
      int dropped = 0;
      for (String root : roots) {
        dropped += tx.update("DELETE FROM capture_plan_pages WHERE root_id = ?", root);
      }
      return dropped;
    });
  }

  /** Appends files to pages; {@link #finish} writes the last one. */
  final class Writer {
    private final LeaseGrant grant;
    private final Runnable check;
    private final IntConsumer stored;
    private final String listId = Ids.opaque();
    private final List<PlannedFile> page = new ArrayList<>();
    private int pageBytesSoFar;
    private long pageSizes;
    private int pages;
    private long files;

    private Writer(LeaseGrant grant, Runnable check, IntConsumer stored) {
      this.grant = grant;
      this.check = check;
      this.stored = stored;
    }

    String listId() {
      return listId;
    }

    long files() {
      return files;
    }

    int pages() {
      return pages;
    }

    void add(PlannedFile f) {
      if (f.getPathBytes().size() > Bounds.MAX_URI_BYTES) {
        throw new IllegalArgumentException("data file path " + f.getPath().substring(0, 64) + "… is longer than "
            + Bounds.MAX_URI_BYTES + " bytes, the most a capture result can name");
      }
      page.add(f);
      int size = f.getSerializedSize();
      pageBytesSoFar += CodedOutputStream.computeUInt32SizeNoTag(size) + size;
      pageSizes += f.getSizeBytes();
      files++;
      if (pageBytesSoFar >= pageBytes) {
        flush();
      }
    }

    /** Writes the last page; answers the list's id. */
    String finish() {
      if (!page.isEmpty()) {
        flush();
      }
      return listId;
    }

    private void flush() {
      check.run();
      // path order within a page: a table that fits one page (thousands of files) is grouped in path order
      page.sort(Comparator.comparing(PlannedFile::getPath));
      ByteArrayOutputStream out = new ByteArrayOutputStream(pageBytesSoFar);
      try {
        for (PlannedFile f : page) {
          f.writeDelimitedTo(out);
        }
      } catch (IOException e) {
        throw new UncheckedIOException(e);
      }
      byte[] data = out.toByteArray();
      int index = pages;
      int count = page.size();
      long sizes = pageSizes;
      ledger.transact(tx -> {
        ledger.jobs().requireHeld(tx, grant.job().id(), grant.epoch());
        return tx.update("INSERT INTO capture_plan_pages (list_id, page_index, job_id, lease_epoch, root_id,"
            + " file_count, byte_count, files, created_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)", listId, index,
            grant.job().id(), grant.epoch(), grant.job().rootId(), count, sizes, data, tx.nowMillis());
      });
      pages++;
      page.clear();
      pageBytesSoFar = 0;
      pageSizes = 0;
      stored.accept(index);
    }
  }
}
