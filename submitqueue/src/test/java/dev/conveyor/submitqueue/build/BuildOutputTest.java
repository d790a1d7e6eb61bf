package dev.conveyor.submitqueue.build;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.List;
import org.junit.jupiter.api.Test;

/** Secrets are masked however the output is cut into pieces; the stored total is bounded. */
class BuildOutputTest {

  @Test
  void aSecretSplitAcrossReadsAndFlushesIsStillMasked() {
    StringBuilder stored = new StringBuilder();
    String text = "token=hunter2-secret; again hunter2-secret and tok, end: hunter2-sec";
    // every split point: one read, a flush, the rest, a final flush
    for (int cut = 0; cut <= text.length(); cut++) {
      stored.setLength(0);
      BuildOutput o = new BuildOutput(List.of("hunter2-secret", "tok"));
      append(o, text.substring(0, cut));
      stored.append(o.drain(false));
      append(o, text.substring(cut));
      stored.append(o.drain(true));
      assertThat(stored.toString()).as("cut at " + cut)
          .isEqualTo("***en=***; again *** and ***, end: hunter2-sec");
    }
    BuildOutput plain = new BuildOutput(List.of("hunter2-secret"));
    append(plain, "no secrets here\n");
    assertThat(plain.drain(false) + plain.drain(true)).isEqualTo("no secrets here\n");
  }

  @Test
  void nulIsReplacedAndTheStoredTotalIsBounded() {
    BuildOutput out = new BuildOutput(List.of());
    append(out, "a\0b");
    assertThat(out.drain(false)).isEqualTo("a\uFFFDb");

    char[] big = new char[1 << 20];
    java.util.Arrays.fill(big, 'x');
    long stored = 3;
    for (int i = 0; i < 10; i++) {
      out.append(big, big.length);
      stored += out.drain(false).length();
    }
    String last = out.drain(true);
    assertThat(stored).isEqualTo(BuildOutput.MAX_STORED_CHARS);
    assertThat(last).contains("more characters of output were not stored");
  }

  private static void append(BuildOutput out, String s) {
    out.append(s.toCharArray(), s.length());
  }
}
