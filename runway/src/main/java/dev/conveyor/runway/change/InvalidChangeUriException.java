package dev.conveyor.runway.change;

/** A change URI Runway does not accept; the message names the URI, the reason and the accepted form. */
public final class InvalidChangeUriException extends Exception {
  private static final long serialVersionUID = 1L;

  public InvalidChangeUriException(String uri, String reason) {
    super("change URI '" + uri + "' is not accepted: " + reason + "; expected " + ChangeUri.FORM);
  }
}
