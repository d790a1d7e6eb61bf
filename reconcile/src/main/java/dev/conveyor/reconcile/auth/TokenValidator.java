package dev.conveyor.reconcile.auth;

import com.nimbusds.jose.JWSAlgorithm;
import com.nimbusds.jose.jwk.source.JWKSource;
import com.nimbusds.jose.jwk.source.JWKSourceBuilder;
import com.nimbusds.jose.proc.JWSVerificationKeySelector;
import com.nimbusds.jose.proc.SecurityContext;
import com.nimbusds.jwt.JWTClaimsSet;
import com.nimbusds.jwt.proc.DefaultJWTClaimsVerifier;
import com.nimbusds.jwt.proc.DefaultJWTProcessor;
import java.net.MalformedURLException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Validates bearer JWTs: RS256/ES256 signature against the issuer's JWKS (cached and refreshed by
 * Nimbus), exact issuer and audience, and an unexpired {@code exp}. Answers the token's roles.
 */
public final class TokenValidator implements TokenRoles {
  public static final String ROLES_CLAIM = "roles";

  private final DefaultJWTProcessor<SecurityContext> processor = new DefaultJWTProcessor<>();

  public TokenValidator(OidcDiscovery issuer, String audience) {
    JWKSource<SecurityContext> keys;
    try {
      keys = JWKSourceBuilder.create(issuer.jwksUri().toURL()).retrying(true).build();
    } catch (MalformedURLException e) {
      throw new IllegalArgumentException("jwks_uri " + issuer.jwksUri() + " is not a URL", e);
    }
    processor.setJWSKeySelector(new JWSVerificationKeySelector<>(Set.of(JWSAlgorithm.RS256, JWSAlgorithm.ES256), keys));
    processor.setJWTClaimsSetVerifier(new DefaultJWTClaimsVerifier<>(audience,
        new JWTClaimsSet.Builder().issuer(issuer.issuer()).build(), Set.of("sub", "exp")));
  }

  /** The token's roles; throws {@link InvalidTokenException} when the token is not acceptable. */
  @Override
  public Set<String> rolesOf(String token) {
    try {
      JWTClaimsSet claims = processor.process(token, null);
      Object roles = claims.getClaim(ROLES_CLAIM);
      Set<String> out = new HashSet<>();
      if (roles instanceof List<?> list) {
        list.forEach(r -> out.add(String.valueOf(r)));
      } else if (roles instanceof String s) {
        out.add(s);
      }
      return out;
    } catch (Exception e) {
      throw new InvalidTokenException(e.getMessage());
    }
  }

  /** The token's {@code sub} claim, prefixed {@code oidc:}; throws {@link InvalidTokenException} like {@link #rolesOf}. */
  @Override
  public String subjectOf(String token) {
    try {
      return "oidc:" + processor.process(token, null).getSubject();
    } catch (Exception e) {
      throw new InvalidTokenException(e.getMessage());
    }
  }

  public static final class InvalidTokenException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    public InvalidTokenException(String message) {
      super(message);
    }
  }
}
