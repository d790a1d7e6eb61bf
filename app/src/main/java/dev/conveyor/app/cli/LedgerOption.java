package dev.conveyor.app.cli;

import dev.conveyor.ledger.Ledger;
import picocli.CommandLine.Option;

/** The --ledger option shared by every command that opens the ledger. */
public final class LedgerOption {
  @Option(names = "--ledger", paramLabel = "URL", defaultValue = "${env:CONVEYOR_LEDGER:-sqlite:conveyor-data/conveyor.db}",
      description = "Ledger location: sqlite:<file> or postgresql://user@host:5432/db (default: ${DEFAULT-VALUE}).")
  String url;

  public String url() {
    return url;
  }

  public Ledger open() {
    return Ledger.open(url);
  }
}
