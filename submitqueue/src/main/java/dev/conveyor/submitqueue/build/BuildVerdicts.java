package dev.conveyor.submitqueue.build;

import com.google.protobuf.InvalidProtocolBufferException;
import dev.conveyor.api.submitqueue.BuildSignal;
import dev.conveyor.ledger.FailureKind;
import dev.conveyor.messagequeue.effects.EffectClaims;
import java.util.Optional;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * A build's run as an effect: its verdict (the BuildSignal it answers) is stored as the completed claim
 * {@value #SCOPE}/job id before the job's completion commits. A job whose completion was lost (its lease
 * lapsed or the ledger stayed away past it) is finished by its next holder from that verdict, without running
 * the build again; the first verdict recorded is the one every attempt answers.
 */
final class BuildVerdicts {
  static final String SCOPE = dev.conveyor.submitqueue.request.RequestEffects.BUILD_SCOPE;
  private static final Logger log = LoggerFactory.getLogger(BuildVerdicts.class);

  private final EffectClaims claims;

  BuildVerdicts(EffectClaims claims) {
    this.claims = claims;
  }

  /** The verdict an earlier attempt of this job already reached, if any. */
  Optional<BuildSignal> decided(String jobId) {
    return claims.view(SCOPE, jobId).filter(v -> v.state().equals("COMPLETED") && v.result() != null)
        .flatMap(v -> parse(jobId, v.result()));
  }

  /**
   * Stores {@code signal} as this job's verdict unless one is stored already; answers the stored one. A ledger
   * that cannot take it now leaves the verdict to the job's completion alone (which retries on its own).
   */
  BuildSignal record(dev.conveyor.ledger.jobs.LeasedJobs jobs, String jobId, String epoch, BuildSignal signal) {
    try {
      // only while this attempt still holds the job: a lapsed attempt's late verdict never becomes the one
      return parse(jobId, claims.completeOnce(SCOPE, jobId, "job " + jobId + " epoch " + epoch, signal.toByteArray(),
          tx -> {
            jobs.requireEpoch(tx, jobId, epoch);
            return null;
          })).orElse(signal);
    } catch (RuntimeException e) {
      if (!FailureKind.of(e).isTransient()) {
        throw e;
      }
      log.warn("build {}: its verdict could not be stored with its claim ({}); completing the job with it", jobId,
          e.getMessage());
      return signal;
    }
  }

  private static Optional<BuildSignal> parse(String jobId, byte[] stored) {
    try {
      return Optional.of(BuildSignal.parseFrom(stored));
    } catch (InvalidProtocolBufferException e) {
      log.warn("build {}: its stored verdict is unreadable ({}); it is built again", jobId, e.getMessage());
      return Optional.empty();
    }
  }
}
