package dev.conveyor.capture.worker;

import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import java.time.Duration;
import java.util.concurrent.TimeUnit;

/**
 * What a long-running worker's gRPC channel needs to outlive a network that drops a connection without a
 * word (a NAT or firewall forgetting an idle flow, a host that went away): keep-alive pings that notice the
 * dead connection, so the channel makes a new one, and a deadline on every call, so none waits forever.
 * The server has to permit the pings ({@link #permitWorkerKeepAlive}), or it ends the connection for
 * pinging too often.
 */
public final class WorkerChannels {
  private WorkerChannels() {}

  /** A worker pings after this long without reads; gRPC allows no less than 10 s. */
  public static final Duration KEEP_ALIVE_TIME = Duration.ofSeconds(20);
  /** A ping unanswered this long ends the connection. */
  public static final Duration KEEP_ALIVE_TIMEOUT = Duration.ofSeconds(10);

  public static NettyChannelBuilder keepAlive(NettyChannelBuilder builder) {
    return keepAlive(builder, KEEP_ALIVE_TIME, KEEP_ALIVE_TIMEOUT);
  }

  public static NettyChannelBuilder keepAlive(NettyChannelBuilder builder, Duration time, Duration timeout) {
    return builder.keepAliveTime(time.toMillis(), TimeUnit.MILLISECONDS)
        .keepAliveTimeout(timeout.toMillis(), TimeUnit.MILLISECONDS).keepAliveWithoutCalls(true);
  }

  /** Lets workers ping as {@link #keepAlive} has them (the default permits one ping in 5 minutes). */
  public static NettyServerBuilder permitWorkerKeepAlive(NettyServerBuilder builder) {
    return builder.permitKeepAliveTime(5, TimeUnit.SECONDS).permitKeepAliveWithoutCalls(true);
  }

  /** Gives every call that has no deadline of its own this one. */
  public static ClientInterceptor defaultDeadline(Duration deadline) {
    return new ClientInterceptor() {
      @Override
      public <Q, A> ClientCall<Q, A> interceptCall(MethodDescriptor<Q, A> method, CallOptions options, Channel next) {
        return next.newCall(method, options.getDeadline() != null ? options
            : options.withDeadlineAfter(deadline.toMillis(), TimeUnit.MILLISECONDS));
      }
    };
  }
}
