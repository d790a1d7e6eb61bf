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

  /**
   * Opens a ledger that must already exist, for commands that only read: a SQLite file that is not there is
   * refused (opening would create an empty ledger and answer "nothing here").
   */
  public Ledger openExisting() {
    java.nio.file.Path file = dev.conveyor.ledger.LedgerUrl.parse(url).sqliteFile(); // the ledger's own parsing
    if (file != null) {
      if (!java.nio.file.Files.isRegularFile(file)) {
        throw new ErrorReporter.UserError("no ledger at " + file.toAbsolutePath().normalize(), "run this where"
            + " 'conveyor serve' keeps its data, or pass --ledger URL (or set CONVEYOR_LEDGER)");
      }
    }
    return Ledger.open(url);
  }
}
