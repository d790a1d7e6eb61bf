package dev.conveyor.ledger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import dev.conveyor.ledger.testing.LedgerTestBase;
import java.util.List;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/** What {@link Ledger#transact} retries and what it reports as deterministic, on both backends. */
public abstract class TransientFailuresContract extends LedgerTestBase {

  @BeforeEach
  void probeTable() {
    ledger.transact(tx -> tx.update(
        "CREATE TABLE IF NOT EXISTS blip_probe (id VARCHAR(64) PRIMARY KEY, note VARCHAR(64) NOT NULL)"));
    ledger.transact(tx -> tx.update("DELETE FROM blip_probe"));
  }

  @AfterEach
  void dropProbeTable() {
    ledger.transact(tx -> tx.update("DROP TABLE blip_probe"));
  }

  protected List<String> probeRows() {
    return ledger.transact(tx -> tx.query("SELECT id || '=' || note FROM blip_probe ORDER BY id",
        rs -> rs.getString(1)));
  }

  @Test
  void aConstraintViolationIsDeterministicAndRunsOnce() {
    ledger.transact(tx -> tx.update("INSERT INTO blip_probe (id, note) VALUES ('a', 'first')"));
    AtomicInteger runs = new AtomicInteger();
    assertThatThrownBy(() -> ledger.transact(tx -> {
      runs.incrementAndGet();
      return tx.update("INSERT INTO blip_probe (id, note) VALUES ('a', 'again')");
    }))
        .isInstanceOf(LedgerRefusedException.class)
        .hasMessageContaining("deterministic")
        .satisfies(e -> assertThat(FailureKind.of(e)).isEqualTo(FailureKind.DETERMINISTIC));
    assertThat(runs).hasValue(1);
    assertThat(probeRows()).containsExactly("a=first");
  }

  @Test
  void badDataIsDeterministic() {
    assertThatThrownBy(() -> ledger.transact(tx -> tx.update("INSERT INTO blip_probe (id, note) VALUES ('b', NULL)")))
        .isInstanceOf(LedgerRefusedException.class)
        .satisfies(e -> assertThat(FailureKind.of(e).isTransient()).isFalse());
  }

  @Test
  void anOptimisticConflictRunsTheTransactionAgainAndCommitsOnce() {
    AtomicInteger runs = new AtomicInteger();
    String note = ledger.transact(tx -> {
      int run = runs.incrementAndGet();
      tx.update("INSERT INTO blip_probe (id, note) VALUES ('c', ?)", "run " + run);
      if (run < 3) {
        throw new OptimisticConflictException("entity changed under us");
      }
      return "run " + run;
    });
    assertThat(note).isEqualTo("run 3");
    assertThat(probeRows()).containsExactly("c=run 3");
  }

  @Test
  void contentionThatNeverClearsEndsAsATransientFailureAfterTheAttemptBound() {
    AtomicInteger runs = new AtomicInteger();
    assertThatThrownBy(() -> ledger.transact(tx -> {
      runs.incrementAndGet();
      throw new OptimisticConflictException("always changed");
    }))
        .isInstanceOf(LedgerUnavailableException.class)
        .hasMessageContaining("still conflicting")
        .satisfies(e -> assertThat(FailureKind.of(e).isTransient()).isTrue());
    assertThat(runs).hasValue(TransientRetry.DEFAULT.maxContentionAttempts());
  }
}
