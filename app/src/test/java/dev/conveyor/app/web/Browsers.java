package dev.conveyor.app.web;

import java.nio.file.Files;
import java.nio.file.Path;
import org.junit.jupiter.api.Assumptions;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;

/**
 * Debian's Chromium and chromedriver for browser tests. Tests skip with a message when they are not
 * installed, unless CONVEYOR_REQUIRE_BROWSER=1 (set by .ci/run, which installs them), where a missing
 * browser fails instead.
 */
final class Browsers {
  static final Path CHROMIUM = Path.of("/usr/bin/chromium");
  static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

  private Browsers() {}

  static void assumeChromium() {
    boolean present = Files.isExecutable(CHROMIUM) && Files.isExecutable(CHROMEDRIVER);
    if (!present && "1".equals(System.getenv("CONVEYOR_REQUIRE_BROWSER"))) {
      throw new IllegalStateException("CONVEYOR_REQUIRE_BROWSER=1 but " + CHROMIUM + " or " + CHROMEDRIVER
          + " is missing: apt-get install chromium chromium-driver");
    }
    Assumptions.assumeTrue(present, "headless Chromium not installed (apt-get install chromium chromium-driver);"
        + " skipping the browser test");
  }

  static ChromeDriver chromium() throws java.io.IOException {
    ChromeOptions options = new ChromeOptions();
    options.setBinary(CHROMIUM.toFile());
    // headless as root in a sandbox; no background traffic, which this machine's closed network refuses
    options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
        "--disable-background-networking", "--disable-component-update", "--disable-sync",
        "--disable-dev-shm-usage", "--window-size=1400,2000",
        "--user-data-dir=" + Files.createTempDirectory("conveyor-chromium"));
    ChromeDriverService service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile())
        .usingAnyFreePort().build();
    return new ChromeDriver(service, options);
  }
}
