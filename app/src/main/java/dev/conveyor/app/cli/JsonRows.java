package dev.conveyor.app.cli;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.time.Instant;

/**
 * JSON for the read verbs that read the ledger itself (jobs, queue): objects built field by field, so each
 * verb's shape is what its code says (snake_case names, times as ISO-8601 strings, absent values as null).
 */
public final class JsonRows {
  private static final JsonNodeFactory JSON = JsonNodeFactory.instance;

  private JsonRows() {}

  public static ObjectNode object() {
    return JSON.objectNode();
  }

  public static void put(ObjectNode o, String name, Instant t) {
    if (t == null) {
      o.putNull(name);
    } else {
      o.put(name, t.toString());
    }
  }

  public static void print(ObjectNode o) {
    System.out.println(o.toString());
  }
}
