package dev.conveyor.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.JobSpec;
import dev.conveyor.ledger.testing.LedgerTestBase;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** Ledger.read: sees what committed, cannot write, and never waits for a writer. */
abstract class ReadTransactionsContract extends LedgerTestBase {

  @Test
  void aReadSeesWhatCommittedAndCannotWrite() {
    String id = ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).build()).jobId();
    long seen = ledger.read(tx -> tx.queryLong("SELECT COUNT(*) FROM jobs WHERE id = ?", id));
    assertThat(seen).isEqualTo(1);
    assertThatThrownBy(() -> ledger.read(tx -> tx.update("DELETE FROM jobs WHERE id = ?", id)))
        .isInstanceOf(IllegalStateException.class).hasMessageContaining("read-only");
    assertThatThrownBy(() -> ledger.read(tx -> tx.query("DELETE FROM jobs WHERE id = ? RETURNING id",
        rs -> rs.getString(1), id))).isInstanceOf(IllegalStateException.class);
    assertThat(ledger.jobs().find(id)).isPresent();
  }

  @Test
  void aReadRunsWhileAWriterHoldsItsTransactionOpen() throws Exception {
    String id = ledger.jobs().enqueue(JobSpec.builder(JobKind.BUILD).build()).jobId();
    CountDownLatch writing = new CountDownLatch(1);
    CountDownLatch release = new CountDownLatch(1);
    CompletableFuture<Void> writer = CompletableFuture.runAsync(() -> ledger.transact(tx -> {
      tx.update("UPDATE jobs SET progress_done = progress_done + 1 WHERE id = ?", id);
      writing.countDown();
      try {
        release.await(30, TimeUnit.SECONDS); // hold the write transaction (and SQLite's write lock) open
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
      return null;
    }));
    try {
      assertThat(writing.await(10, TimeUnit.SECONDS)).isTrue();
      // answered from the last commit while the writer is still inside its transaction
      CompletableFuture<Long> reader = CompletableFuture.supplyAsync(() -> ledger.read(tx ->
          tx.queryLong("SELECT progress_done FROM jobs WHERE id = ?", id)));
      assertThat(reader.get(10, TimeUnit.SECONDS)).isEqualTo(0);
    } finally {
      release.countDown();
      writer.get(30, TimeUnit.SECONDS);
    }
    long after = ledger.read(tx -> tx.queryLong("SELECT progress_done FROM jobs WHERE id = ?", id));
    assertThat(after).isEqualTo(1);
  }
}
