package dev.conveyor.ledger.testing;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.Locale;
import java.util.UUID;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.BeforeEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

/**
 * A throwaway PostgreSQL database per test class on 127.0.0.1:5432 (user postgres), dropped
 * afterwards. Without a reachable server the class is skipped with a clear message, unless
 * CONVEYOR_REQUIRE_POSTGRES=1, in which case it fails: CI must never skip silently.
 */
public final class PostgresDatabase implements BeforeAllCallback, BeforeEachCallback, AfterAllCallback {
  public static final String HOST = System.getenv().getOrDefault("CONVEYOR_TEST_PG_HOST", "127.0.0.1");
  public static final int PORT = Integer.parseInt(System.getenv().getOrDefault("CONVEYOR_TEST_PG_PORT", "5432"));
  private static final String ADMIN_URL = "jdbc:postgresql://" + HOST + ":" + PORT + "/postgres";

  private String name;
  private String unreachable;

  @Override
  public void beforeAll(ExtensionContext context) throws Exception {
    String owner = context.getRequiredTestClass().getSimpleName().toLowerCase(Locale.ROOT);
    String candidate =
        "conveyor_" + owner.replaceAll("[^a-z0-9]", "") + "_" + UUID.randomUUID().toString().substring(0, 8);
    try (Connection c = admin(); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + candidate);
      name = candidate;
    } catch (SQLException e) {
      String why = "PostgreSQL is not reachable at " + HOST + ":" + PORT + " as user postgres (" + e.getMessage() + ")";
      if ("1".equals(System.getenv("CONVEYOR_REQUIRE_POSTGRES"))) {
        throw new IllegalStateException(why + "; CONVEYOR_REQUIRE_POSTGRES=1 forbids skipping", e);
      }
      // Aborting per test (not per class) makes Surefire count and report every skipped test.
      unreachable = why + "; skipping. Set CONVEYOR_REQUIRE_POSTGRES=1 to make this a failure.";
    }
  }

  @Override
  public void beforeEach(ExtensionContext context) {
    if (unreachable != null) {
      Assumptions.abort(unreachable);
    }
  }

  @Override
  public void afterAll(ExtensionContext context) throws Exception {
    if (name == null) {
      return;
    }
    try (Connection c = admin(); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
    }
  }

  private static Connection admin() throws SQLException {
    return DriverManager.getConnection(ADMIN_URL, "postgres", "");
  }

  /** The ledger URL of this class's database. */
  public String url() {
    return "postgresql://postgres@" + HOST + ":" + PORT + "/" + name;
  }

  public String name() {
    return name;
  }
}
