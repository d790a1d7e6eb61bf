package dev.conveyor.api.bounds;

import com.google.rpc.Code;
import dev.conveyor.api.ErrorStatus;
import io.grpc.StatusRuntimeException;

/**
 * A request field beyond its bound: {@code INVALID_ARGUMENT} with ErrorInfo reason
 * {@code INVALID_ARGUMENT} and metadata {@code field=<name>}. It is a gRPC status already, so every
 * service's error mapping passes it through unchanged.
 */
public final class InvalidField extends StatusRuntimeException {
  private static final long serialVersionUID = 1L;
  private final String field;

  public InvalidField(String field, String message) {
    this(field, ErrorStatus.of(Code.INVALID_ARGUMENT, "INVALID_ARGUMENT", message, "field", field));
  }

  private InvalidField(String field, StatusRuntimeException status) {
    super(status.getStatus(), status.getTrailers());
    this.field = field;
  }

  /** The request field, as the proto names it (nested fields dotted: {@code connector.location}). */
  public String field() {
    return field;
  }
}
