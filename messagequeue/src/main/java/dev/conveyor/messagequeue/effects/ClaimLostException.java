package dev.conveyor.messagequeue.effects;

import dev.conveyor.ledger.LedgerException;

/** The caller's claim token is no longer the claim's owner (it expired and was taken over, or was released). */
public final class ClaimLostException extends LedgerException {
  private static final long serialVersionUID = 1L;

  public ClaimLostException(String scope, String key, String why) {
    super("claim on " + scope + "/" + key + " lost: " + why);
  }
}
