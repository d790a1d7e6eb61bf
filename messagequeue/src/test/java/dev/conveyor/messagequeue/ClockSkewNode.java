package dev.conveyor.messagequeue;

import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.jobs.JobKind;
import dev.conveyor.ledger.jobs.LeaseRequest;
import dev.conveyor.ledger.jobs.Outcomes.LeaseGrant;
import dev.conveyor.messagequeue.consume.ConsumerOptions;
import dev.conveyor.messagequeue.consume.Outcome;
import dev.conveyor.messagequeue.effects.ClaimResult;
import dev.conveyor.messagequeue.effects.EffectClaims;
import dev.conveyor.messagequeue.stream.Streams;
import java.time.Duration;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * Node A of the clock-skew test, a child JVM on this host's (correct) clock: it joins the consumer
 * group, leases every queued job, claims one effect, and renews the jobs and the claim every
 * {@link #RENEW_EVERY} until it is killed. It prints HOLDING once it holds them, LOST or ERROR if a
 * renewal is refused or fails.
 */
public final class ClockSkewNode {
  public static final String GROUP = "skew";
  public static final String SCOPE = "skew";
  public static final String EFFECT = "push-1";
  public static final Duration LEASE = Duration.ofSeconds(6);
  public static final Duration RENEW_EVERY = Duration.ofMillis(500);

  private ClockSkewNode() {}

  /** Both nodes' membership: partition leases of {@link #LEASE}, heartbeats every third of it. */
  public static ConsumerOptions member(String id) {
    return ConsumerOptions.defaults(GROUP, id).withLeaseTtl(LEASE);
  }

  public static void main(String[] args) throws Exception {
    String member = args[1];
    Ledger ledger = Ledger.open(args[0]); // the database's clock: what every node must decide on
    Streams streams = new Streams(ledger, StreamsTestBase.registry());
    streams.consume(StreamsTestBase.ORDERS, member(member), delivery -> Outcome.ack());
    List<LeaseGrant> grants = ledger.jobs().lease(LeaseRequest.of(member, Set.of(JobKind.BUILD), LEASE)
        .withMaxJobs(Integer.parseInt(args[2])));
    EffectClaims claims = new EffectClaims(ledger);
    String token = ((ClaimResult.Acquired) claims.claim(SCOPE, EFFECT, member, LEASE)).token();
    ScheduledExecutorService renewals = Executors.newSingleThreadScheduledExecutor();
    renewals.scheduleAtFixedRate(() -> {
      try {
        for (LeaseGrant g : grants) {
          if (!ledger.jobs().renew(g.job().id(), g.epoch(), LEASE).renewed()) {
            say("LOST job " + g.job().id());
          }
        }
        if (!claims.renew(SCOPE, EFFECT, token, LEASE)) {
          say("LOST claim");
        }
      } catch (RuntimeException e) {
        say("ERROR " + e);
      }
    }, RENEW_EVERY.toMillis(), RENEW_EVERY.toMillis(), TimeUnit.MILLISECONDS);
    say("HOLDING " + grants.size());
    new CountDownLatch(1).await();
  }

  private static synchronized void say(String line) {
    System.out.println(line);
    System.out.flush();
  }
}
