package dev.conveyor.durability;

import static org.assertj.core.api.Assertions.assertThat;

import com.google.protobuf.ByteString;
import dev.conveyor.api.durability.DurabilityGrpc;
import dev.conveyor.api.durability.EmitSignalRequest;
import dev.conveyor.api.durability.FollowSignalsRequest;
import dev.conveyor.api.durability.SignalEvent;
import dev.conveyor.durability.service.DurabilityRuntime;
import dev.conveyor.ledger.Ledger;
import dev.conveyor.ledger.testing.PostgresDatabase;
import dev.conveyor.supervise.Supervisor;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.stub.StreamObserver;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import org.awaitility.Awaitility;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

/**
 * Two nodes on one PostgreSQL ledger: a signal emitted through one reaches a follower on the other by
 * NOTIFY, long before the followers' polling fallback (set to a minute here) would have read it.
 */
class PostgresCrossNodeFollowTest {
  @RegisterExtension static PostgresDatabase pg = new PostgresDatabase();

  @Test
  void aSignalEmittedOnOneNodeReachesAFollowerOnAnotherByNotify() throws Exception {
    try (Ledger ledgerA = Ledger.open(pg.url()); Ledger ledgerB = Ledger.open(pg.url());
        DurabilityRuntime a = DurabilityRuntime.start(ledgerA, 4, Duration.ofMinutes(1));
        DurabilityRuntime b = DurabilityRuntime.start(ledgerB, 4, Duration.ofMinutes(1))) {
      Server serverA = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(a.service())
          .build().start();
      Server serverB = NettyServerBuilder.forAddress(new InetSocketAddress("127.0.0.1", 0)).addService(b.service())
          .build().start();
      ManagedChannel toA = NettyChannelBuilder.forAddress("127.0.0.1", serverA.getPort()).usePlaintext().build();
      ManagedChannel toB = NettyChannelBuilder.forAddress("127.0.0.1", serverB.getPort()).usePlaintext().build();
      try {
        var emitter = DurabilityGrpc.newBlockingStub(toA);
        emitter.emitSignal(EmitSignalRequest.newBuilder().setStream("x").setIntentId("first")
            .setPayload(ByteString.copyFromUtf8("1")).build());
        List<SignalEvent> seen = new CopyOnWriteArrayList<>();
        DurabilityGrpc.newStub(toB).followSignals(FollowSignalsRequest.newBuilder().setStream("x").build(),
            new StreamObserver<>() {
              @Override
              public void onNext(SignalEvent e) {
                seen.add(e);
              }

              @Override
              public void onError(Throwable t) {}

              @Override
              public void onCompleted() {}
            });
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 1); // the catch-up read
        // the follower now waits for a wake-up; its next poll is a minute away
        emitter.emitSignal(EmitSignalRequest.newBuilder().setStream("x").setIntentId("second")
            .setPayload(ByteString.copyFromUtf8("2")).build());
        Awaitility.await().atMost(Duration.ofSeconds(10)).until(() -> seen.size() == 2);
        assertThat(seen.get(1).getSignal().getSequence()).isEqualTo(2);
      } finally {
        toA.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        toB.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        serverA.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        serverB.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
      }
    }
  }
}
