package dev.conveyor.ledger.maintenance;

import dev.conveyor.ledger.Ledger;
import java.time.Duration;
import java.util.List;

/** Child-process body for the leader test: stand for maintenance every 200 ms, say when leading, until killed. */
public final class LeadUntilKilled {
  private LeadUntilKilled() {}

  public static void main(String[] args) throws Exception {
    Ledger ledger = Ledger.open(args[0]);
    Maintenance m = new Maintenance(ledger, args[1], List.of(),
        Maintenance.Options.defaults().withLease(Duration.ofMillis(Long.parseLong(args[2]))),
        Maintenance.Observer.NONE);
    boolean said = false;
    while (true) {
      if (m.lead() instanceof LeaderLease.Leading && !said) {
        System.out.println("LEADING");
        System.out.flush();
        said = true;
      }
      Thread.sleep(200); // the renewal cadence of a real node, not a test's wait
    }
  }
}
