package dev.conveyor.reconcile.auth;

import java.util.Set;

/** Answers the roles a bearer token carries, or throws {@link TokenValidator.InvalidTokenException}. */
@FunctionalInterface
public interface TokenRoles {
  Set<String> rolesOf(String token);
}
