package dev.conveyor.api;

import com.google.protobuf.InvalidProtocolBufferException;
import com.google.protobuf.Message;
import com.google.protobuf.util.JsonFormat;
import java.nio.charset.StandardCharsets;

/**
 * The wire codec for queue payloads that cross a service boundary: protobuf JSON with proto
 * field names (snake_case), enums by name, 64-bit integers as strings (JsonFormat's default)
 * and unknown fields ignored on read, so contracts can grow without breaking older readers.
 */
public final class ProtoJson {
  private static final JsonFormat.Printer PRINTER =
      JsonFormat.printer().preservingProtoFieldNames().omittingInsignificantWhitespace();
  private static final JsonFormat.Parser PARSER = JsonFormat.parser().ignoringUnknownFields();
  /** For people's scripts: every field present, empty lists and zero counts included, so a shape never thins. */
  private static final JsonFormat.Printer COMPLETE = PRINTER.includingDefaultValueFields();

  /** As {@link #toJson}, with fields at their default values printed too (the CLI's --json). */
  public static String toCompleteJson(Message message) {
    try {
      return COMPLETE.print(message);
    } catch (InvalidProtocolBufferException e) {
      throw new IllegalStateException("cannot encode " + message.getDescriptorForType().getFullName(), e);
    }
  }

  private ProtoJson() {}

  public static String toJson(Message message) {
    try {
      return PRINTER.print(message);
    } catch (InvalidProtocolBufferException e) {
      // Only reachable for Any fields with unregistered types, which our contracts do not use.
      throw new IllegalStateException("cannot encode " + message.getDescriptorForType().getFullName(), e);
    }
  }

  public static byte[] toBytes(Message message) {
    return toJson(message).getBytes(StandardCharsets.UTF_8);
  }

  /** Parses {@code json} into a fresh message of the builder's type. */
  @SuppressWarnings("unchecked")
  public static <M extends Message> M fromJson(String json, M prototype) throws PayloadException {
    Message.Builder builder = prototype.newBuilderForType();
    try {
      PARSER.merge(json, builder);
    } catch (InvalidProtocolBufferException | RuntimeException e) {
      throw new PayloadException(
          "not a valid " + prototype.getDescriptorForType().getFullName() + " payload: " + e.getMessage(), e);
    }
    return (M) builder.build();
  }

  public static <M extends Message> M fromBytes(byte[] json, M prototype) throws PayloadException {
    return fromJson(new String(json, StandardCharsets.UTF_8), prototype);
  }

  /** An undecodable payload: terminal for whoever consumes it (retrying cannot fix it). */
  public static final class PayloadException extends Exception {
    private static final long serialVersionUID = 1L;

    public PayloadException(String message, Throwable cause) {
      super(message, cause);
    }
  }
}
