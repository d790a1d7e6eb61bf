package dev.conveyor.messagequeue.effects;

import java.time.Instant;

/** The answer to a claim on an effect. */
public sealed interface ClaimResult {

  /** The caller owns the effect until the lease lapses; {@code token} fences every later call. */
  record Acquired(String token, int transitions, Instant expiresAt) implements ClaimResult {}

  /** The effect already ran; its stored result. */
  record AlreadyCompleted(byte[] result) implements ClaimResult {}

  /** Someone else owns it until {@code until}. */
  record Held(String holder, Instant until) implements ClaimResult {}
}
