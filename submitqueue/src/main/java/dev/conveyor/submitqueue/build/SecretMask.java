package dev.conveyor.submitqueue.build;

import java.util.Comparator;
import java.util.List;

/**
 * Replaces secret values in text that arrives in pieces: a secret split across two pieces is still
 * masked, because the end of each piece that could begin a secret is held back until more arrives.
 */
final class SecretMask {
  static final String MASK = "***";
  private final List<String> secrets;
  private final int longest;

  SecretMask(List<String> secrets) {
    // longest first, so a secret that contains another is masked whole
    this.secrets = secrets.stream().filter(s -> !s.isEmpty()).distinct()
        .sorted(Comparator.comparingInt(String::length).reversed()).toList();
    this.longest = this.secrets.isEmpty() ? 0 : this.secrets.get(0).length();
  }

  /**
   * Masks and removes from {@code text} what can be emitted now; what stays may be the start of a
   * secret. With {@code last}, everything is emitted.
   */
  String take(StringBuilder text, boolean last) {
    if (secrets.isEmpty()) {
      String all = text.toString();
      text.setLength(0);
      return all;
    }
    int safe = last ? text.length() : Math.max(0, text.length() - (longest - 1));
    StringBuilder out = new StringBuilder(text.length());
    int i = 0;
    scan:
    while (i < text.length()) {
      for (String s : secrets) {
        if (text.length() - i >= s.length() && text.indexOf(s, i) == i) { // whole secret present: mask it
          out.append(MASK);
          i += s.length();
          continue scan;
        }
      }
      if (i >= safe) {
        break; // could be a secret's beginning; wait for the rest
      }
      out.append(text.charAt(i++));
    }
    text.delete(0, i);
    return out.toString();
  }
}
