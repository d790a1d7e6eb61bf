package dev.conveyor.submitqueue.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Secrets are masked however the output is cut into pieces; only the head and the tail are held. */
class BuildOutputTest {

  @Test
  void aSecretSplitAcrossReadsAndFlushesIsStillMasked() {
    StringBuilder stored = new StringBuilder();
    String text = "token=hunter2-secret; again hunter2-secret and tok, end: hunter2-sec";
    // every split point: one read, a flush, the rest, a final flush
    for (int cut = 0; cut <= text.length(); cut++) {
      stored.setLength(0);
      BuildOutput o = new BuildOutput(List.of("hunter2-secret", "tok"), LogLimits.DEFAULT);
      append(o, text.substring(0, cut));
      stored.append(text(o.drain(false)));
      append(o, text.substring(cut));
      stored.append(text(o.drain(true)));
      assertThat(stored.toString()).as("cut at " + cut)
          .isEqualTo("***en=***; again *** and ***, end: hunter2-sec");
    }
    BuildOutput plain = new BuildOutput(List.of("hunter2-secret"), LogLimits.DEFAULT);
    append(plain, "no secrets here\n");
    assertThat(text(plain.drain(false)) + text(plain.drain(true))).isEqualTo("no secrets here\n");
  }

  @Test
  void keepsTheHeadAndTheTailAndCountsTheMiddle() {
    BuildOutput out = new BuildOutput(List.of(), new LogLimits(10, 10));
    append(out, "a\0b");
    BuildOutput.Drained first = out.drain(false);
    assertThat(first.head()).isEqualTo("a\uFFFDb");

    StringBuilder whole = new StringBuilder("a\uFFFDb");
    StringBuilder tails = new StringBuilder();
    long skipped = 0;
    long heldAtMost = 0;
    for (int i = 0; i < 50; i++) {
      String piece = ("line " + i + "\n").repeat(20_000); // ~160 KB per read, far over both limits
      append(out, piece);
      whole.append(piece);
      BuildOutput.Drained d = out.drain(false);
      heldAtMost = Math.max(heldAtMost, d.head().length() + d.tail().length());
      tails.append(d.tail());
      skipped += d.skipped();
    }
    assertThat(heldAtMost).as("never more than head + tail held between drains").isLessThanOrEqualTo(20);

    append(out, "the end\n");
    whole.append("the end\n");
    BuildOutput.Drained last = out.drain(true);
    tails.append(last.tail());
    assertThat(last.tail()).isEqualTo("the end\n");
    assertThat(tails.toString()).endsWith(whole.substring(whole.length() - 10)); // what the ledger's tail keeps
    assertThat(skipped).isPositive();
  }

  @Test
  void readsAfterTheLastDrainAreIgnored() {
    BuildOutput out = new BuildOutput(List.of(), LogLimits.DEFAULT);
    append(out, "done\n");
    assertThat(text(out.drain(true))).isEqualTo("done\n");
    append(out, "a reader thread that outlived the timeout\n"); // the race: nothing may land after the last drain
    assertThat(out.drain(true).isEmpty()).isTrue();
  }

  private static String text(BuildOutput.Drained d) {
    assertThat(d.skipped()).isZero();
    return d.head() + d.tail();
  }

  private static void append(BuildOutput out, String s) {
    out.append(s.toCharArray(), s.length());
  }
}
