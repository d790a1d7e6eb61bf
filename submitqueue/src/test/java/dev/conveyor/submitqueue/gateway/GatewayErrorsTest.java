package dev.conveyor.submitqueue.gateway;

import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.api.ErrorStatus;
import dev.conveyor.ledger.LedgerRefusedException;
import dev.conveyor.ledger.LedgerUnavailableException;
import io.grpc.Status;
import java.sql.SQLException;
import org.junit.jupiter.api.Test;

class GatewayErrorsTest {

  @Test
  void aTransientLedgerFailureIsUnavailableAndADeterministicOneIsInternal() {
    var down = GatewayErrors.toStatus(new LedgerUnavailableException("transaction still conflicting after 12"
        + " attempts", new SQLException("could not serialize access", "40001")));
    assertThat(down.getStatus().getCode()).isEqualTo(Status.Code.UNAVAILABLE);
    assertThat(ErrorStatus.reasonOf(down)).isEqualTo("LEDGER_UNAVAILABLE");

    var refused = GatewayErrors.toStatus(new LedgerRefusedException("ledger statement failed",
        new SQLException("value too long for type character varying(64)", "22001")));
    assertThat(refused.getStatus().getCode()).isEqualTo(Status.Code.INTERNAL);
    assertThat(ErrorStatus.reasonOf(refused)).isEqualTo("LEDGER_ERROR");
  }
}
