package dev.conveyor.supervise;

import static org.assertj.core.api.Assertions.assertThat;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import org.junit.jupiter.api.Test;

class SlotLeasesTest {
  private final List<Integer> asked = new ArrayList<>();
  private int nextJob;

  private List<Integer> jobs(int max, int available) {
    asked.add(max);
    List<Integer> out = new ArrayList<>();
    for (int i = 0; i < Math.min(max, available); i++) {
      out.add(nextJob++);
    }
    return out;
  }

  @Test
  void oneLeaseFillsEveryFreeSlotAndTheSpareGrantsGoToTheOthers() throws Exception {
    SlotLeases<Integer> slots = new SlotLeases<>(4, 100, Duration.ofMillis(1));
    assertThat(slots.next(max -> jobs(max, 10))).isEqualTo(0);
    assertThat(asked).containsExactly(4);
    // the three other slots take the spare grants without leasing
    assertThat(slots.next(max -> jobs(max, 10))).isEqualTo(1);
    assertThat(slots.next(max -> jobs(max, 10))).isEqualTo(2);
    assertThat(slots.next(max -> jobs(max, 10))).isEqualTo(3);
    assertThat(asked).containsExactly(4);
    assertThat(slots.held()).isEqualTo(4);
    // two slots finish: the next lease asks for exactly two
    slots.finished();
    slots.finished();
    assertThat(slots.next(max -> jobs(max, 10))).isEqualTo(4);
    assertThat(asked).containsExactly(4, 2);
  }

  @Test
  void aLeaseNeverAsksForMoreThanItsLimitOrWhenEverySlotHoldsWork() throws Exception {
    SlotLeases<Integer> slots = new SlotLeases<>(8, 3, Duration.ofMillis(1));
    slots.next(max -> jobs(max, 100));
    assertThat(asked).containsExactly(3);
    SlotLeases<Integer> busy = new SlotLeases<>(1, 5, Duration.ofMillis(1));
    busy.next(max -> jobs(max, 100));
    assertThat(busy.next(max -> jobs(max, 100))).as("no free slot: nothing leased").isNull();
    assertThat(asked).containsExactly(3, 1);
  }

  @Test
  void nothingToLeaseAnswersNullAndHoldsNothing() throws Exception {
    SlotLeases<Integer> slots = new SlotLeases<>(2, 10, Duration.ofMillis(1));
    assertThat(slots.next(max -> jobs(max, 0))).isNull();
    assertThat(slots.held()).isZero();
  }

  /** A wake-up as the ledger gives one: a version that grows on each signal, and a wait for it to grow. */
  private static final class Signal implements SlotLeases.Wakeup {
    private long version;
    final java.util.concurrent.CountDownLatch waiting = new java.util.concurrent.CountDownLatch(1);

    synchronized void signal() {
      version++;
      notifyAll();
    }

    @Override
    public synchronized long version() {
      return version;
    }

    @Override
    public synchronized void awaitAfter(long seen, Duration max) throws InterruptedException {
      waiting.countDown();
      long deadline = System.nanoTime() + max.toNanos();
      for (long left = max.toNanos(); version == seen && left > 0; left = deadline - System.nanoTime()) {
        java.util.concurrent.TimeUnit.NANOSECONDS.timedWait(this, left);
      }
    }
  }

  @Test
  void anIdleSlotWakesWhenJobsBecomeReadyNotAtItsNextPoll() throws Exception {
    Signal ready = new Signal();
    SlotLeases<Integer> slots = new SlotLeases<>(1, 10, Duration.ofMinutes(1), ready);
    var pool = java.util.concurrent.Executors.newSingleThreadExecutor();
    try {
      var idle = pool.submit(() -> slots.next(max -> jobs(max, 0)));
      assertThat(ready.waiting.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
      ready.signal();
      // with a one-minute poll, only the wake-up can end the wait this soon
      assertThat(idle.get(10, java.util.concurrent.TimeUnit.SECONDS)).isNull();
    } finally {
      pool.shutdownNow();
    }
  }

  @Test
  void jobsMadeReadyWhileLeasingAreNotSleptThrough() throws Exception {
    Signal ready = new Signal();
    SlotLeases<Integer> slots = new SlotLeases<>(1, 10, Duration.ofMinutes(1), ready);
    long t0 = System.nanoTime();
    assertThat(slots.next(max -> {
      ready.signal(); // a job is enqueued after the lease query ran, before the slot waits
      return jobs(max, 0);
    })).isNull();
    assertThat(System.nanoTime() - t0).as("returned at once, not after the poll")
        .isLessThan(Duration.ofSeconds(30).toNanos());
  }

  @Test
  void afterALeaseFoundNothingIdleSlotsWaitForAWakeUpInsteadOfEachAskingAgain() throws Exception {
    long[] version = {0};
    SlotLeases.Wakeup wakeup = new SlotLeases.Wakeup() {
      @Override
      public long version() {
        return version[0];
      }

      @Override
      public void awaitAfter(long seen, Duration max) {
        // returns at once: the test plays each slot's next call in turn
      }
    };
    SlotLeases<Integer> slots = new SlotLeases<>(4, 100, Duration.ofMinutes(10), wakeup);
    for (int slot = 0; slot < 4; slot++) {
      assertThat(slots.next(max -> jobs(max, 0))).isNull();
    }
    assertThat(asked).as("one lease for four idle slots").hasSize(1);
    version[0]++; // a job may be ready
    assertThat(slots.next(max -> jobs(max, 1))).isEqualTo(0);
    assertThat(asked).hasSize(2);
  }
}
