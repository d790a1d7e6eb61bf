package dev.conveyor.bench;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.SQLException;
import java.sql.Statement;

/** Creates a fresh benchmark database on the local PostgreSQL. */
final class Pg {
  private Pg() {}

  static String freshDatabase(BenchArgs a, String name) throws SQLException {
    try (Connection c = DriverManager.getConnection("jdbc:postgresql://" + a.pgHost() + ":" + a.pgPort() + "/postgres",
        "postgres", ""); Statement s = c.createStatement()) {
      s.execute("DROP DATABASE IF EXISTS " + name + " WITH (FORCE)");
      s.execute("CREATE DATABASE " + name);
    }
    return "jdbc:postgresql://" + a.pgHost() + ":" + a.pgPort() + "/" + name;
  }
}
