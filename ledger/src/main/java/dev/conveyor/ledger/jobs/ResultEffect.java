package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Tx;
import java.sql.SQLException;

/**
 * The effect of a first-time result, run in the transaction that records it (so both happen or
 * neither does); returns the response to store and to answer every replay with.
 */
@FunctionalInterface
public interface ResultEffect {
  byte[] apply(Tx tx, Job job) throws SQLException;
}
