package dev.conveyor.ledger.testing;

import java.util.Optional;
import org.junit.jupiter.api.Assumptions;

/**
 * Host tools a test needs beyond the JDK (bubblewrap, a browser). A test skips with the reason when the
 * tool is missing, unless the named CONVEYOR_REQUIRE_* variable is 1 (.ci/run sets them and installs the
 * tools), in which case it fails: CI must never pass by skipping.
 */
public final class HostTools {
  private HostTools() {}

  /** {@code problem} is why the tool cannot be used here, or empty when it can. */
  public static void assumeUsable(String tool, Optional<String> problem, String requireVariable, String install) {
    if (problem.isEmpty()) {
      return;
    }
    String why = tool + " is not usable: " + problem.get() + " (" + install + ")";
    if ("1".equals(System.getenv(requireVariable))) {
      throw new IllegalStateException(requireVariable + "=1 but " + why);
    }
    Assumptions.abort(why + "; skipping");
  }
}
