package dev.conveyor.reconcile.executor;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.ledger.LedgerException;
import dev.conveyor.ledger.LedgerRefusedException;
import dev.conveyor.ledger.LedgerUnavailableException;
import io.grpc.Status;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class GrpcErrorsTest {

  @Test
  void aTransientLedgerFailureIsUnavailableAndADeterministicOneIsNot() {
    var down = GrpcErrors.toStatus(new LedgerUnavailableException("ledger unavailable for 30000 ms",
        new SQLException("terminating connection due to administrator command", "57P01")));
    assertThat(down.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(GrpcErrors.reasonOf(down)).isEqualTo("LEDGER_UNAVAILABLE");

    var refused = GrpcErrors.toStatus(new LedgerRefusedException("ledger statement failed",
        new SQLException("duplicate key value violates unique constraint", "23505")));
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(GrpcErrors.reasonOf(refused)).isEqualTo("LEDGER_ERROR");
    assertThat(refused.getStatus().getDescription()).contains("deterministic", "23505");

    var plain = GrpcErrors.toStatus(new LedgerException("something the ledger cannot do"));
    assertThat(plain.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(GrpcErrors.reasonOf(plain)).isEqualTo("LEDGER_ERROR");
  }
}
