package dev.conveyor.api;

import com.google.protobuf.Any;
import com.google.rpc.Code;
import com.google.rpc.ErrorInfo;
import io.grpc.StatusRuntimeException;
import io.grpc.protobuf.StatusProto;

/**
 * gRPC failures with an {@link ErrorInfo} (domain {@value #DOMAIN}) whose reason a client can switch
 * on, and the reading side for clients. Every Conveyor service answers errors through this.
 */
public final class ErrorStatus {
  public static final String DOMAIN = "conveyor.dev";

  private ErrorStatus() {}

  /** {@code metadata} is key, value, key, value… */
  public static StatusRuntimeException of(Code code, String reason, String message, String... metadata) {
    ErrorInfo.Builder info = ErrorInfo.newBuilder().setReason(reason).setDomain(DOMAIN);
    for (int i = 0; i + 1 < metadata.length; i += 2) {
      info.putMetadata(metadata[i], metadata[i + 1]);
    }
    com.google.rpc.Status status = com.google.rpc.Status.newBuilder().setCode(code.getNumber())
        .setMessage(message == null ? reason : message).addDetails(Any.pack(info.build())).build();
    return StatusProto.toStatusRuntimeException(status);
  }

  /** The ErrorInfo of a failure, or null. */
  public static ErrorInfo infoOf(Throwable t) {
    com.google.rpc.Status status = StatusProto.fromThrowable(t);
    if (status == null) {
      return null;
    }
    for (Any detail : status.getDetailsList()) {
      if (detail.is(ErrorInfo.class)) {
        try {
          return detail.unpack(ErrorInfo.class);
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
          return null;
        }
      }
    }
    return null;
  }

  /** The ErrorInfo reason of a failure, or null. */
  public static String reasonOf(Throwable t) {
    ErrorInfo info = infoOf(t);
    return info == null ? null : info.getReason();
  }
}
