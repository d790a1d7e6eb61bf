package dev.conveyor.durability.service;

import dev.conveyor.api.durability.SignalEvent;
import dev.conveyor.durability.signals.SignalRecord;
import dev.conveyor.durability.signals.Signals;
import dev.conveyor.durability.signals.SignalWakeups;
import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import java.time.Duration;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Semaphore;
import java.util.concurrent.locks.Condition;
import java.util.concurrent.locks.ReentrantLock;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * FollowSignals calls: each runs on its own thread (at most {@code max} at once, more are refused with
 * OVERLOADED), reads the partition page by page, sends only while the client's window has room, and then
 * waits for the partition's wake-up (a commit on this node, or a NOTIFY from another) or, as a fallback, a
 * poll interval. A gap is sent whenever the position asked for was already collected.
 */
final class SignalFollowers implements AutoCloseable {
  private static final Logger log = LoggerFactory.getLogger(SignalFollowers.class);
  private static final int PAGE = 500;
  private static final Duration STALLED = Duration.ofSeconds(60);

  private static final class ReaderStalled extends RuntimeException {
    ReaderStalled() {
      super(null, null, false, false);
    }
  }

  private final Signals signals;
  private final Semaphore slots;
  private final Duration poll;
  private final ExecutorService threads = Executors.newCachedThreadPool(r -> {
    Thread t = new Thread(r, "follow-signals");
    t.setDaemon(true);
    return t;
  });

  SignalFollowers(Signals signals, int max, Duration poll) {
    this.signals = signals;
    this.slots = new Semaphore(max);
    this.poll = poll;
  }

  void follow(String stream, String partition, long after, StreamObserver<SignalEvent> out) {
    if (!slots.tryAcquire()) {
      out.onError(DurabilityErrors.overloaded("too many FollowSignals calls on this node; retry later"));
      return;
    }
    ServerCallStreamObserver<SignalEvent> call = (ServerCallStreamObserver<SignalEvent>) out;
    Follow f = new Follow(stream, partition, after, call);
    call.setOnCancelHandler(f::wake);
    call.setOnReadyHandler(f::wake);
    try {
      threads.execute(() -> {
        try {
          f.run();
        } finally {
          slots.release();
        }
      });
    } catch (RuntimeException e) { // shut down
      slots.release();
      out.onError(DurabilityErrors.overloaded("the node is shutting down"));
    }
  }

  private final class Follow {
    private final String stream;
    private final String partition;
    private final String topic;
    private final ServerCallStreamObserver<SignalEvent> call;
    private final ReentrantLock lock = new ReentrantLock();
    private final Condition ready = lock.newCondition();
    private long after;

    Follow(String stream, String partition, long after, ServerCallStreamObserver<SignalEvent> call) {
      this.stream = stream;
      this.partition = partition;
      this.topic = Signals.wakeTopic(stream, partition);
      this.after = after;
      this.call = call;
    }

    void wake() {
      lock.lock();
      try {
        ready.signalAll();
      } finally {
        lock.unlock();
      }
    }

    void run() {
      SignalWakeups wakeups = signals.wakeups();
      wakeups.follow(topic);
      try {
        while (!call.isCancelled()) {
          long seen = wakeups.version(topic);
          Signals.Page page = signals.read(stream, partition, after, PAGE, DurabilityService.PAGE_BYTES);
          if (page.gap().isPresent()) {
            send(SignalEvent.newBuilder().setGap(DurabilityService.gap(page.gap().get())).build());
            after = Math.max(after, page.gap().get().firstRetained() - 1); // told once, not at every poll
          }
          for (SignalRecord s : page.signals()) {
            send(SignalEvent.newBuilder().setSignal(DurabilityService.signal(s)).build());
            after = s.sequence();
          }
          if (!page.signals().isEmpty() && after < page.lastSequence()) {
            continue; // a page cut by count or bytes: more is there already
          }
          long deadline = System.nanoTime() + poll.toNanos();
          while (!call.isCancelled() && wakeups.version(topic) == seen) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
              break; // the polling fallback: a NOTIFY missed while LISTEN reconnected costs at most this
            }
            // short waits, so a cancelled call frees its thread soon
            wakeups.await(topic, seen, Duration.ofNanos(Math.min(left, Duration.ofMillis(200).toNanos())));
          }
        }
      } catch (ReaderStalled e) {
        closeQuietly(DurabilityErrors.overloaded("the reader read nothing for " + STALLED.toSeconds()
            + " s with its window full; follow again from the last sequence it has"));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        closeQuietly(DurabilityErrors.overloaded("the node is shutting down; follow again from the last sequence"));
      } catch (RuntimeException e) {
        if (!call.isCancelled()) {
          log.debug("FollowSignals {}/{} ended: {}", stream, partition, e.toString());
          closeQuietly(DurabilityErrors.toStatus(e));
        }
      } finally {
        wakeups.unfollow(topic);
      }
    }

    private void send(SignalEvent event) throws InterruptedException {
      lock.lock();
      try {
        long left = STALLED.toNanos();
        while (!call.isReady() && !call.isCancelled()) {
          if (left <= 0) { // a reader that stopped reading gives its place back
            throw new ReaderStalled();
          }
          left = ready.awaitNanos(left); // the client's window is full: wait for onReady (or cancellation)
        }
      } finally {
        lock.unlock();
      }
      if (!call.isCancelled()) {
        call.onNext(event);
      }
    }

    private void closeQuietly(io.grpc.StatusRuntimeException status) {
      try {
        call.onError(status);
      } catch (RuntimeException ignored) {
        // already closed by the client
      }
    }
  }

  @Override
  public void close() {
    threads.shutdownNow();
  }
}
