package dev.conveyor.ledger;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.file.Path;
import org.junit.jupiter.api.Test;

class LedgerUrlTest {
  @Test
  void defaultIsAnSqliteFileUnderTheDataDirectory() {
    LedgerUrl url = LedgerUrl.parse(null);
    assertThat(url.dialect()).isEqualTo(Dialect.SQLITE);
    assertThat(url.sqliteFile()).isEqualTo(Path.of("conveyor-data/conveyor.db").toAbsolutePath());
  }

  @Test
  void postgresUrlBecomesJdbcWithCredentialsAsProperties() {
    LedgerUrl url = LedgerUrl.parse("postgresql://alice:s%40cret@db.example:6543/conveyor?sslmode=disable");
    assertThat(url.dialect()).isEqualTo(Dialect.POSTGRESQL);
    assertThat(url.jdbcUrl()).isEqualTo("jdbc:postgresql://db.example:6543/conveyor?sslmode=disable");
    assertThat(url.properties().getProperty("user")).isEqualTo("alice");
    assertThat(url.properties().getProperty("password")).isEqualTo("s@cret");
    assertThat(url.toString()).doesNotContain("cret").contains("alice:***@");
  }

  @Test
  void jdbcFormsAreAccepted() {
    assertThat(LedgerUrl.parse("jdbc:postgresql://h/db").dialect()).isEqualTo(Dialect.POSTGRESQL);
    assertThat(LedgerUrl.parse("jdbc:sqlite:/tmp/x.db").sqliteFile()).isEqualTo(Path.of("/tmp/x.db"));
    assertThat(LedgerUrl.parse("postgres://h/db").jdbcUrl()).isEqualTo("jdbc:postgresql://h:5432/db");
  }
}
