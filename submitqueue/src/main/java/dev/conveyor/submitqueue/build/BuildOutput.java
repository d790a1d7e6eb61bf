package dev.conveyor.submitqueue.build;

import java.util.List;

/**
 * A build's output between the process and the ledger: appended by the reader thread, drained by
 * the supervising thread at each heartbeat, with secret values masked and the stored total bounded.
 * Characters PostgreSQL cannot store (NUL) are replaced.
 */
final class BuildOutput {
  /** At most this many characters of a build's output are stored; the rest is counted. */
  static final int MAX_STORED_CHARS = 8 << 20;
  private final SecretMask mask;
  private final StringBuilder pending = new StringBuilder();
  private long stored;
  private long dropped;

  BuildOutput(List<String> secrets) {
    this.mask = new SecretMask(secrets);
  }

  synchronized void append(char[] buf, int n) {
    if (stored + pending.length() >= MAX_STORED_CHARS) {
      dropped += n; // keep reading, so the build never blocks on a full pipe
      return;
    }
    for (int i = 0; i < n; i++) {
      pending.append(buf[i] == '\0' ? '\uFFFD' : buf[i]);
    }
  }

  /** What to store now (masked); with {@code last}, everything left, and a note of what was not stored. */
  synchronized String drain(boolean last) {
    String out = mask.take(pending, last);
    if (stored + out.length() > MAX_STORED_CHARS) {
      int keep = (int) Math.max(0, MAX_STORED_CHARS - stored);
      dropped += out.length() - keep;
      out = out.substring(0, keep);
    }
    stored += out.length();
    if (last && dropped > 0) {
      out += "\n[conveyor: " + dropped + " more characters of output were not stored (limit "
          + MAX_STORED_CHARS + ")]\n";
      dropped = 0;
    }
    return out;
  }
}
