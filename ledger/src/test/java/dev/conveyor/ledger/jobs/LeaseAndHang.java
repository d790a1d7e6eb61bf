package dev.conveyor.ledger.jobs;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;

/** Child-process body for the crash test: lease jobs, report their epochs, then hang mid-work. */
public final class LeaseAndHang {
  private LeaseAndHang() {}

  public static void main(String[] args) throws Exception {
    String url = args[0];
    int n = Integer.parseInt(args[1]);
    Duration lease = Duration.ofSeconds(Long.parseLong(args[2]));
    Ledger ledger = Ledger.open(url);
    List<LeaseGrant> grants =
        ledger.jobs().lease(LeaseRequest.of("doomed-worker", Set.of(JobKind.BUILD), lease).withMaxJobs(n));
    for (LeaseGrant g : grants) {
      ledger.jobs().start(g.job().id(), g.epoch());
      System.out.println(g.job().id() + " " + g.epoch() + " " + g.expiresAt().toEpochMilli());
    }
    System.out.println("LEASED");
    System.out.flush();
    new CountDownLatch(1).await(); // "working" until killed
  }
}
