package dev.conveyor.messagequeue.effects;

import dev.conveyor.ledger.Ledger;
import java.time.Duration;
import java.util.concurrent.CountDownLatch;

/** Child-process body: claim an effect, then "run the effect" until killed. */
public final class ClaimAndHang {
  private ClaimAndHang() {}

  public static void main(String[] args) throws Exception {
    Ledger ledger = Ledger.open(args[0]);
    Duration lease = Duration.ofSeconds(Long.parseLong(args[3]));
    var claim = new EffectClaims(ledger).claim(args[1], args[2], "doomed", lease);
    if (!(claim instanceof ClaimResult.Acquired)) {
      throw new IllegalStateException("expected to acquire, got " + claim);
    }
    System.out.println("CLAIMED");
    System.out.flush();
    new CountDownLatch(1).await();
  }
}
