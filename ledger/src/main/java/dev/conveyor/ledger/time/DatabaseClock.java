package dev.conveyor.ledger.time;

import java.sql.Connection;
import java.sql.PreparedStatement;
import java.sql.ResultSet;
import java.sql.SQLException;
import java.time.Clock;
import java.time.Duration;
import java.time.Instant;
import java.time.OffsetDateTime;
import java.time.ZoneId;
import java.time.ZoneOffset;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import javax.sql.DataSource;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Ledger time on a database server: the server's clock, read when the ledger opens and again every
 * {@link #RESYNC_EVERY}, carried forward in between on a monotonic counter ({@code System.nanoTime}),
 * so no transaction pays a round trip for it. All nodes of one database agree on the time to within a
 * round trip whatever their own wall clocks say; the host clock is only compared, never used.
 *
 * <p>It never goes backwards. A resync that finds the database behind what was already handed out (the
 * counter ran fast, or the server's clock was stepped back) <em>holds</em>: the time stays where it is
 * until the database's catches up. Holding rather than slewing errs on the safe side (a lease lasts a
 * little longer, never shorter) and has no rate to tune; a hold longer than {@link #SKEW_THRESHOLD} is
 * logged. A failed resync changes nothing: the counter carries on.
 */
public final class DatabaseClock extends Clock implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(DatabaseClock.class);
  public static final Duration RESYNC_EVERY = Duration.ofSeconds(30);
  public static final Duration SKEW_THRESHOLD = Duration.ofSeconds(1);

  /** Reads the database's time now: one round trip. */
  @FunctionalInterface
  public interface Source {
    Instant read() throws SQLException;
  }

  /** The database's time (epoch nanoseconds) at one reading of the monotonic counter. */
  private record Anchor(long epochNanos, long ticks) {
    long at(long now) {
      return epochNanos + (now - ticks);
    }
  }

  private final Source source;
  private final Clock host;
  private final LongSupplier ticker;
  private final AtomicLong latest = new AtomicLong(Long.MIN_VALUE);
  private volatile Anchor anchor;
  private volatile long skewNanos;
  private boolean skewReported;
  private boolean failureReported;
  // Its own lock: closing must not wait for a resync stuck on a database that is down.
  private final Object lifecycle = new Object();
  private ScheduledExecutorService resync;
  private volatile boolean closed;

  /** Reads the database's time once (a failure is thrown); {@code ticker} is a monotonic nanosecond counter. */
  public DatabaseClock(Source source, Clock host, LongSupplier ticker) throws SQLException {
    this.source = source;
    this.host = host;
    this.ticker = ticker;
    sync();
  }

  /** A source answering {@code query} (one {@code timestamptz}) on a connection of {@code dataSource}. */
  public static Source querying(DataSource dataSource, String query) {
    return () -> {
      try (Connection c = dataSource.getConnection()) {
        c.setAutoCommit(true);
        try (PreparedStatement ps = c.prepareStatement(query); ResultSet rs = ps.executeQuery()) {
          if (!rs.next()) {
            throw new SQLException("the database answered no time to " + query);
          }
          return rs.getObject(1, OffsetDateTime.class).toInstant();
        }
      }
    };
  }

  /** Reads the database's time again and carries on from it (never going back: see the class comment). */
  public synchronized void sync() throws SQLException {
    long before = ticker.getAsLong();
    Instant db = source.read();
    long after = ticker.getAsLong();
    long hostNanos = epochNanos(host.instant());
    // The server read its clock somewhere within the round trip: assume the middle.
    long dbNow = epochNanos(db) + (after - before) / 2;
    Anchor previous = anchor;
    anchor = new Anchor(dbNow, after);
    long ahead = Math.max(latest.get(), previous == null ? dbNow : previous.at(after)) - dbNow;
    if (ahead > SKEW_THRESHOLD.toNanos()) {
      log.warn("the database's clock is {} ms behind the ledger time already handed out; ledger time holds until"
          + " it catches up", ahead / 1_000_000);
    }
    skewNanos = hostNanos - dbNow;
    reportSkew();
  }

  private void reportSkew() {
    boolean over = Math.abs(skewNanos) > SKEW_THRESHOLD.toNanos();
    if (over && !skewReported) {
      log.warn("this host's clock is {} ms {} the database's; leases and partitions are decided on the database's"
          + " time, but fix the host's clock (NTP)", Math.abs(skewNanos) / 1_000_000, skewNanos > 0 ? "ahead of" : "behind");
    } else if (!over && skewReported) {
      log.info("this host's clock agrees with the database's again (within {} ms)", SKEW_THRESHOLD.toMillis());
    }
    skewReported = over;
  }

  /** Resyncs every {@code every} on a daemon thread until {@link #close}. */
  public void resyncEvery(Duration every) {
    synchronized (lifecycle) {
      if (resync != null || closed) {
        throw new IllegalStateException(closed ? "closed" : "already resyncing");
      }
      resync = Executors.newSingleThreadScheduledExecutor(r -> {
        Thread t = new Thread(r, "ledger-clock");
        t.setDaemon(true);
        return t;
      });
      resync.scheduleWithFixedDelay(this::resyncQuietly, every.toMillis(), every.toMillis(), TimeUnit.MILLISECONDS);
    }
  }

  private void resyncQuietly() {
    try {
      sync();
      if (failureReported) {
        log.info("read the database's clock again");
        failureReported = false;
      }
    } catch (SQLException | RuntimeException e) {
      // A scheduled task that throws is never run again; the counter carries the time meanwhile.
      if (!failureReported && !closed) {
        log.warn("cannot read the database's clock ({}); carrying ledger time forward on this host's monotonic"
            + " clock", e.toString());
        failureReported = true;
      }
    }
  }

  /** This host's wall clock minus the database's, as of the last resync (positive: the host is ahead). */
  public Duration skew() {
    return Duration.ofNanos(skewNanos);
  }

  @Override
  public Instant instant() {
    long now = anchor.at(ticker.getAsLong());
    return Instant.ofEpochSecond(0, latest.accumulateAndGet(now, Math::max));
  }

  @Override
  public ZoneId getZone() {
    return ZoneOffset.UTC;
  }

  @Override
  public Clock withZone(ZoneId zone) {
    if (ZoneOffset.UTC.equals(zone)) {
      return this;
    }
    throw new UnsupportedOperationException("ledger time is UTC");
  }

  /** Stops resyncing (the time still runs on the counter); does not wait for a resync in flight. */
  @Override
  public void close() {
    synchronized (lifecycle) {
      closed = true;
      if (resync != null) {
        resync.shutdownNow();
      }
    }
  }

  private static long epochNanos(Instant t) {
    return Math.addExact(Math.multiplyExact(t.getEpochSecond(), 1_000_000_000L), t.getNano());
  }
}
