package dev.conveyor.messagequeue.wakeup;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** What a NOTIFY names is what wakes: the partitions written, else the topic, else everything. */
class NotifyPayloadTest {
  private final Wakeups wakeups = new Wakeups();

  @Test
  void aPayloadNamingPartitionsWakesOnlyThose() {
    String payload = PgNotifyListener.payload("orders", List.of(3, 5));
    assertThat(payload).isEqualTo("orders#3,5");
    long p3 = wakeups.version("orders", 3);
    long p4 = wakeups.version("orders", 4);
    long p5 = wakeups.version("orders", 5);

    PgNotifyListener.signal(wakeups, payload);

    assertThat(wakeups.version("orders", 3)).isGreaterThan(p3);
    assertThat(wakeups.version("orders", 5)).isGreaterThan(p5);
    assertThat(wakeups.version("orders", 4)).as("a partition nobody wrote stays idle").isEqualTo(p4);
  }

  @Test
  void aTopicOnlyPayloadAnOddNameOrNothingWakeMore() {
    long before = wakeups.version("orders", 9);
    PgNotifyListener.signal(wakeups, "orders"); // an older node's payload
    assertThat(wakeups.version("orders", 9)).isGreaterThan(before);

    long odd = wakeups.version("a#b", 0);
    PgNotifyListener.signal(wakeups, "a#b"); // '#' in the topic's own name: the whole topic wakes
    assertThat(wakeups.version("a#b", 0)).isGreaterThan(odd);

    long other = wakeups.version("other", 1);
    PgNotifyListener.signal(wakeups, "");
    assertThat(wakeups.version("other", 1)).isGreaterThan(other);
  }

  @Test
  void aLongListFallsBackToTheTopic() {
    List<Integer> many = java.util.stream.IntStream.range(0, 2000).boxed().toList();
    assertThat(PgNotifyListener.payload("orders", many)).isEqualTo("orders");
    assertThat(PgNotifyListener.payload("orders", List.of())).isEqualTo("orders");
  }
}
