package dev.conveyor.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;
import java.util.ArrayList;
import java.util.List;
import java.util.UUID;

/**
 * Benchmark databases on the local PostgreSQL: each run creates its own, named
 * {@code <db-prefix><purpose>_<random>}, and drops only those it created (the server is shared).
 */
public final class Pg {
  private static final List<String> CREATED = new ArrayList<>();
  private static BenchArgs dropArgs;

  private Pg() {}

  /** A new, empty database; answers its JDBC URL. */
  public static synchronized String freshDatabase(BenchArgs a, String purpose) throws SQLException {
    String name = a.dbPrefix() + purpose + "_" + UUID.randomUUID().toString().substring(0, 8);
    try (Connection c = admin(a); Statement s = c.createStatement()) {
      s.execute("CREATE DATABASE " + name);
    }
    CREATED.add(name);
    dropArgs = a;
    return "jdbc:postgresql://" + a.pgHost() + ":" + a.pgPort() + "/" + name;
  }

  /** The same database as a ledger URL. */
  public static String ledgerUrl(String jdbcUrl) {
    return jdbcUrl.replace("jdbc:postgresql://", "postgresql://postgres@");
  }

  /** Drops the databases this run created; called once at exit. */
  public static synchronized void dropCreated() {
    for (String name : CREATED) {
      try (Connection c = admin(dropArgs); Statement s = c.createStatement()) {
        s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      } catch (SQLException e) {
        System.err.println("warning: could not drop benchmark database " + name + ": " + e.getMessage());
      }
    }
    CREATED.clear();
  }

  private static Connection admin(BenchArgs a) throws SQLException {
    return DriverManager.getConnection("jdbc:postgresql://" + a.pgHost() + ":" + a.pgPort() + "/postgres",
        "postgres", "");
  }
}
