package dev.conveyor.durability.service;

import dev.conveyor.messagequeue.effects.EffectClaims.ListPosition;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.Objects;

/** ListEffects page tokens: where the last page stopped, bound to the listing's subject and state. */
final class PageTokens {
  private static final String SEP = "\n";

  private PageTokens() {}

  static String encode(ListPosition p, String subject, String state) {
    String raw = String.join(SEP, "v1", Objects.toString(subject, ""), Objects.toString(state, ""),
        Long.toString(p.updatedAtMillis()), p.scope(), p.key());
    return Base64.getUrlEncoder().withoutPadding().encodeToString(raw.getBytes(StandardCharsets.UTF_8));
  }

  /** The position a token names, or null for an empty token; refused when it is not this listing's. */
  static ListPosition decode(String token, String subject, String state) {
    if (token.isEmpty()) {
      return null;
    }
    String[] parts;
    try {
      parts = new String(Base64.getUrlDecoder().decode(token), StandardCharsets.UTF_8).split(SEP, -1);
    } catch (IllegalArgumentException e) {
      throw new IllegalArgumentException("page_token is not one this service issued");
    }
    if (token.length() > 2048 || parts.length != 6 || !parts[0].equals("v1")) {
      throw new IllegalArgumentException("page_token is not one this service issued");
    }
    if (!parts[1].equals(Objects.toString(subject, "")) || !parts[2].equals(Objects.toString(state, ""))) {
      throw new IllegalArgumentException("page_token belongs to a listing with another subject or state");
    }
    try {
      // every field is checked as a client's would be: a crafted token reaches the ledger with nothing else
      if (!parts[4].startsWith(DurabilityService.SCOPE_PREFIX)) {
        throw new IllegalArgumentException("outside the service's subjects");
      }
      dev.conveyor.durability.names.Names.name("subject", parts[4].substring(DurabilityService.SCOPE_PREFIX.length()));
      dev.conveyor.durability.names.Names.key("key", parts[5]);
      return new ListPosition(Long.parseLong(parts[3]), parts[4], parts[5]);
    } catch (IllegalArgumentException e) { // NumberFormatException too
      throw new IllegalArgumentException("page_token is not one this service issued");
    }
  }
}
