package dev.conveyor.capture.worker;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.time.Duration;
import org.junit.jupiter.api.Test;

/** A worker's options refuse what the server would not honour, naming what is wrong. */
class CaptureWorkerOptionsTest {
  @Test
  void aLeaseWaitBeyondTheServersMostOrBelowZeroIsRefused() {
    CaptureWorker.Options options = CaptureWorker.Options.defaults("w");
    assertThat(options.leaseWait()).isEqualTo(Duration.ofSeconds(10));
    assertThat(options.withLeaseWait(Duration.ZERO).leaseWait()).isZero();
    assertThat(options.withLeaseWait(Duration.ofSeconds(20)).leaseWait()).isEqualTo(Duration.ofSeconds(20));
    assertThatThrownBy(() -> options.withLeaseWait(Duration.ofMillis(20_001)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease wait");
    assertThatThrownBy(() -> options.withLeaseWait(Duration.ofMillis(-1)))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease wait");
    assertThatThrownBy(() -> options.withLeaseWait(null))
        .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("lease wait");
  }

  @Test
  void everyCallWithoutADeadlineGetsOneAndAGivenOneStands() {
    var interceptor = WorkerChannels.defaultDeadline(Duration.ofSeconds(60));
    io.grpc.CallOptions[] seen = new io.grpc.CallOptions[1];
    io.grpc.Channel recorder = new io.grpc.Channel() {
      @Override
      public <Q, A> io.grpc.ClientCall<Q, A> newCall(io.grpc.MethodDescriptor<Q, A> method, io.grpc.CallOptions o) {
        seen[0] = o;
        return null;
      }

      @Override
      public String authority() {
        return "test";
      }
    };
    var method = dev.conveyor.api.reconcile.ReconcileExecutorControlGrpc.getLeaseReconcileJobMethod();
    interceptor.interceptCall(method, io.grpc.CallOptions.DEFAULT, recorder);
    assertThat(seen[0].getDeadline()).isNotNull();
    assertThat(seen[0].getDeadline().timeRemaining(java.util.concurrent.TimeUnit.SECONDS)).isBetween(55L, 60L);
    io.grpc.CallOptions own = io.grpc.CallOptions.DEFAULT.withDeadlineAfter(15, java.util.concurrent.TimeUnit.SECONDS);
    interceptor.interceptCall(method, own, recorder);
    assertThat(seen[0]).isSameAs(own);
  }
}
