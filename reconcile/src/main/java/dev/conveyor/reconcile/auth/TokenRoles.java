package dev.conveyor.reconcile.auth;

import java.util.Set;

/** Answers the roles a bearer token carries, or throws {@link TokenValidator.InvalidTokenException}. */
@FunctionalInterface
public interface TokenRoles {
  Set<String> rolesOf(String token);

  /**
   * Who a valid token speaks for, as an audit log names them; throws like {@link #rolesOf}. Tokens that
   * name nobody (a node's local token) answer what they are.
   */
  default String subjectOf(String token) {
    rolesOf(token);
    return "token holder";
  }
}
