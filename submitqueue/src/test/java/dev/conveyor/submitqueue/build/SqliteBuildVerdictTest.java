package dev.conveyor.submitqueue.build;

class SqliteBuildVerdictTest extends BuildVerdictContract {
  @Override
  protected String ledgerUrl() {
    return "sqlite:" + dir.resolve("ledger.db");
  }
}
