package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;
import java.util.Optional;

/**
 * What must hold before a held job may take a completion, decided inside the completion's transaction
 * (for instance: a file group succeeds only with an accepted success result). It only reads; a refusal
 * goes to that caller alone and writes nothing, so concurrent completions still share one transaction.
 */
@FunctionalInterface
public interface CompletionCheck {
  /** Why {@code job} (held under the caller's lease) may not take {@code completion} now; empty: it may. */
  Optional<RuntimeException> refusal(Tx tx, Job job, Completion completion) throws SQLException;
}
