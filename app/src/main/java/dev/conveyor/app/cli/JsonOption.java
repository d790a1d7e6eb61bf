package dev.conveyor.app.cli;

import com.google.protobuf.Message;
import dev.conveyor.api.ProtoJson;
import picocli.CommandLine.Option;

/**
 * {@code --json} for a read verb: prints the server's answer as protobuf JSON (proto field names, int64 as
 * strings, enums by name), the message each verb's help names, on one line. A script parses it, never the
 * table.
 */
public final class JsonOption {
  @Option(names = "--json", description = "Print the answer as JSON (protobuf JSON of the message this help names).")
  boolean json;

  public boolean on() {
    return json;
  }

  /** Prints {@code message} when --json was given; answers whether it did. */
  public boolean print(Message message) {
    if (json) {
      System.out.println(ProtoJson.toCompleteJson(message));
    }
    return json;
  }
}
