package dev.conveyor.api.bounds;

import java.nio.charset.StandardCharsets;
import java.util.Collection;
import java.util.Map;

/**
 * The input bounds of every public RPC, in one place (the table is in api/README.md). Each check
 * answers the value or throws {@link InvalidField} naming the field; a refusal never echoes an
 * oversize value back. Printable means: no control characters (NUL included), no format characters
 * (the bidi overrides U+202A–U+202E and isolates U+2066–U+2069, zero-width marks, BOM), no line or
 * paragraph separators and no lone surrogates.
 */
public final class Bounds {
  /** Ids (table, job, request, executor, result, lease epoch, lane, column names…). */
  public static final int MAX_ID_BYTES = 512;
  /** Snapshot ids (the ledger keeps them in 256 characters). */
  public static final int MAX_SNAPSHOT_ID_BYTES = 256;
  /** Queue names (the ledger keeps them in 200 characters). */
  public static final int MAX_QUEUE_BYTES = 200;
  /** Change URIs, connector locations and file paths. */
  public static final int MAX_URI_BYTES = 2048;
  /** Change URIs in one land request. */
  public static final int MAX_CHANGE_URIS = 100;
  /** Free text: reasons, completion and progress messages, per-file messages. */
  public static final int MAX_TEXT_BYTES = 4096;
  /** Short lists in a request: job kinds, states, lanes, execution classes, executor ids, snapshot ids. */
  public static final int MAX_LIST_ITEMS = 100;
  /** Column names in one capture policy. */
  public static final int MAX_COLUMNS = 10_000;
  /** Connector properties. */
  public static final int MAX_PROPERTIES = 64;
  /** Page tokens (opaque, see {@link PageTokens}). */
  public static final int MAX_PAGE_TOKEN_BYTES = 1024;

  private Bounds() {}

  /** A required id: non-blank, at most {@link #MAX_ID_BYTES} bytes of printable UTF-8. */
  public static String id(String field, String value) {
    return required(field, value, MAX_ID_BYTES);
  }

  /** An id that may be empty (empty means "not given"). */
  public static String optionalId(String field, String value) {
    return value.isEmpty() ? value : id(field, value);
  }

  /** A required value of at most {@code maxBytes} bytes of printable UTF-8. */
  public static String required(String field, String value, int maxBytes) {
    return required(field, "field '" + field + "'", value, maxBytes);
  }

  /** As {@link #required(String, String, int)} for entry {@code index} of a repeated field. */
  public static String required(String field, int index, String value, int maxBytes) {
    return required(field, "entry " + index + " of field '" + field + "'", value, maxBytes);
  }

  private static String required(String field, String label, String value, int maxBytes) {
    if (value == null || value.isBlank()) {
      throw new InvalidField(field, label + " must not be empty");
    }
    return printable(field, label, value, maxBytes, false);
  }

  /** An optional value (empty allowed) of at most {@code maxBytes} bytes of printable UTF-8. */
  public static String optional(String field, String value, int maxBytes) {
    return value.isEmpty() ? value : printable(field, "field '" + field + "'", value, maxBytes, false);
  }

  /** Free text: line breaks and tabs allowed, other control and format characters refused. */
  public static String text(String field, String value) {
    return printable(field, "field '" + field + "'", value, MAX_TEXT_BYTES, true);
  }

  /** At most {@code max} items. */
  public static <T extends Collection<?>> T list(String field, T values, int max) {
    if (values.size() > max) {
      throw new InvalidField(field, "field '" + field + "' has " + values.size() + " entries; at most " + max
          + " are allowed");
    }
    return values;
  }

  /** At most {@code max} entries, each non-empty and at most {@code maxBytes} bytes of printable UTF-8. */
  public static <T extends Collection<String>> T entries(String field, T values, int max, int maxBytes) {
    list(field, values, max);
    int i = 0;
    for (String v : values) {
      required(field, i++, v, maxBytes);
    }
    return values;
  }

  /** Every entry an id, and at most {@code max} of them. */
  public static <T extends Collection<String>> T ids(String field, T values, int max) {
    return entries(field, values, max, MAX_ID_BYTES);
  }

  /** A map of at most {@code max} entries, keys ids and values at most {@code maxValueBytes} bytes. */
  public static Map<String, String> map(String field, Map<String, String> values, int max, int maxValueBytes) {
    if (values.size() > max) {
      throw new InvalidField(field, "field '" + field + "' has " + values.size() + " entries; at most " + max
          + " are allowed");
    }
    for (var e : values.entrySet()) {
      required(field, "a key of field '" + field + "'", e.getKey(), MAX_ID_BYTES);
      if (!e.getValue().isEmpty()) {
        printable(field, "the value of a key of field '" + field + "'", e.getValue(), maxValueBytes, false);
      }
    }
    return values;
  }

  /** {@code min ≤ value ≤ max}; negative numbers in particular are refused where min is 0. */
  public static long range(String field, long value, long min, long max) {
    if (value < min || value > max) {
      throw new InvalidField(field, "field '" + field + "' must be between " + min + " and " + max + ", got " + value);
    }
    return value;
  }

  public static int range(String field, int value, int min, int max) {
    return (int) range(field, (long) value, min, max);
  }

  private static String printable(String field, String label, String value, int maxBytes, boolean lines) {
    // a char is at least one UTF-8 byte, so an oversize string is refused before it is measured
    int bytes = value.length() > maxBytes ? Integer.MAX_VALUE : value.getBytes(StandardCharsets.UTF_8).length;
    if (bytes > maxBytes) {
      throw new InvalidField(field, label + " is " + (bytes == Integer.MAX_VALUE
          ? "more than " + maxBytes : String.valueOf(bytes)) + " bytes; at most " + maxBytes + " are allowed");
    }
    for (int i = 0; i < value.length(); ) {
      int cp = value.codePointAt(i);
      if (!allowed(cp, lines)) {
        throw new InvalidField(field, label + " contains " + String.format("U+%04X", cp)
            + " at character " + i + "; only printable characters are allowed");
      }
      i += Character.charCount(cp);
    }
    return value;
  }

  private static boolean allowed(int cp, boolean lines) {
    if (lines && (cp == '\n' || cp == '\t' || cp == '\r')) {
      return true;
    }
    return switch (Character.getType(cp)) {
      case Character.CONTROL, Character.FORMAT, Character.LINE_SEPARATOR, Character.PARAGRAPH_SEPARATOR,
          Character.SURROGATE, Character.UNASSIGNED -> false;
      default -> true;
    };
  }
}
