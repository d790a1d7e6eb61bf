package dev.conveyor.messagequeue.consume;

import dev.conveyor.ledger.LedgerException;

/** Another member took the partition over; whatever this member was doing with it is void. */
public final class PartitionLeaseLostException extends LedgerException {
  private static final long serialVersionUID = 1L;

  public PartitionLeaseLostException(String group, String topic, int partition) {
    super("group " + group + " lost its lease on " + topic + "[" + partition + "]");
  }
}
