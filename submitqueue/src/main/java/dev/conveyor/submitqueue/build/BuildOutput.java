package dev.conveyor.submitqueue.build;

import java.util.List;

/**
 * A build's output between the process and the ledger: appended by the reader thread, drained by the
 * supervising thread at each heartbeat, both under this object's monitor. Secret values are masked
 * as text arrives (before anything is cut, so a cut never reveals part of a secret); then the first
 * {@code head} characters are kept as they are, and of the rest only the last {@code tail} are held —
 * the middle is counted as skipped. Once the last drain is taken, later reads (a reader thread that
 * outlived the build's timeout) are ignored. Characters PostgreSQL cannot store (NUL) are replaced.
 */
final class BuildOutput {
  /** What to store now: the next head text, then how many characters were skipped, then tail text. */
  record Drained(String head, long skipped, String tail) {
    boolean isEmpty() {
      return head.isEmpty() && skipped == 0 && tail.isEmpty();
    }
  }

  private final SecretMask mask;
  private final LogLimits limits;
  private final StringBuilder raw = new StringBuilder();
  private final StringBuilder head = new StringBuilder();
  private final StringBuilder tail = new StringBuilder();
  private long headTaken; // head characters already drained
  private long skipped;
  private boolean closed;

  BuildOutput(List<String> secrets, LogLimits limits) {
    this.mask = new SecretMask(secrets);
    this.limits = limits;
  }

  synchronized void append(char[] buf, int n) {
    if (closed) {
      return;
    }
    for (int i = 0; i < n; i++) {
      raw.append(buf[i] == '\0' ? '\uFFFD' : buf[i]);
    }
    route(mask.take(raw, false));
  }

  private void route(String masked) {
    int i = 0;
    long room = limits.head() - headTaken - head.length();
    if (room > 0) {
      int k = (int) Math.min(room, masked.length());
      if (k > 0 && k < masked.length() && Character.isHighSurrogate(masked.charAt(k - 1))) {
        k--; // never split a pair between head and tail
      }
      head.append(masked, 0, k);
      i = k;
    }
    tail.append(masked, i, masked.length());
    int excess = tail.length() - limits.tail();
    if (excess > 0 && (excess >= limits.tail() || excess > 64 << 10)) { // trim in steps, not per read
      drop(excess);
    }
  }

  /** Drops the oldest {@code n} held tail characters (one more if that would split a pair). */
  private void drop(int n) {
    if (n < tail.length() && Character.isLowSurrogate(tail.charAt(n))) {
      n++;
    }
    tail.delete(0, n);
    skipped += n;
  }

  /** What to store now; with {@code last}, everything left (and nothing more is accepted). */
  synchronized Drained drain(boolean last) {
    if (last) {
      route(mask.take(raw, true));
      closed = true;
    }
    int excess = tail.length() - limits.tail();
    if (excess > 0) {
      drop(excess);
    }
    Drained out = new Drained(head.toString(), skipped, tail.toString());
    headTaken += head.length();
    head.setLength(0);
    tail.setLength(0);
    skipped = 0;
    return out;
  }
}
