package dev.conveyor.app.cli;

import io.grpc.CallOptions;
import io.grpc.ClientCall;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.nio.NioEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.socket.nio.NioSocketChannel;
import java.util.concurrent.TimeUnit;

/**
 * A CLI call's channel on an event loop of its own, stopped with the channel. On the shared loop gRPC
 * keeps by default, the loop's thread still sat in its native poll when the command ended, and the JVM
 * waits up to 300 ms at exit for threads in native code: a third of a short command's run.
 */
final class CliChannel extends ManagedChannel {
  private final EventLoopGroup loop;
  private final ManagedChannel channel;

  CliChannel(String host, int port) {
    this(host, port, false);
  }

  /** {@code longLived}: a worker's channel, with keep-alive pings that replace a connection the network dropped. */
  CliChannel(String host, int port, boolean longLived) {
    this.loop = new NioEventLoopGroup(1);
    NettyChannelBuilder builder = NettyChannelBuilder.forAddress(host, port).usePlaintext().eventLoopGroup(loop)
        .channelType(NioSocketChannel.class);
    this.channel = (longLived ? dev.conveyor.capture.worker.WorkerChannels.keepAlive(builder) : builder).build();
  }

  @Override
  public ManagedChannel shutdown() {
    channel.shutdown();
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS);
    return this;
  }

  /** Stops the channel and its loop, and waits (briefly) for the loop's thread to end. */
  @Override
  public ManagedChannel shutdownNow() {
    channel.shutdownNow();
    try {
      channel.awaitTermination(1, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    loop.shutdownGracefully(0, 1, TimeUnit.SECONDS).awaitUninterruptibly(1, TimeUnit.SECONDS);
    return this;
  }

  @Override
  public boolean isShutdown() {
    return channel.isShutdown();
  }

  @Override
  public boolean isTerminated() {
    return channel.isTerminated() && loop.isTerminated();
  }

  @Override
  public boolean awaitTermination(long timeout, TimeUnit unit) throws InterruptedException {
    long deadline = System.nanoTime() + unit.toNanos(timeout);
    return channel.awaitTermination(timeout, unit)
        && loop.awaitTermination(Math.max(0, deadline - System.nanoTime()), TimeUnit.NANOSECONDS);
  }

  @Override
  public <Q, A> ClientCall<Q, A> newCall(MethodDescriptor<Q, A> method, CallOptions options) {
    return channel.newCall(method, options);
  }

  @Override
  public String authority() {
    return channel.authority();
  }
}
