package dev.conveyor.ledger;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Properties;

/**
 * A parsed ledger location. Accepted forms: {@code sqlite:<file>}, {@code jdbc:sqlite:<file>},
 * {@code postgresql://[user[:password]@]host[:port]/database[?params]} (also {@code postgres://}),
 * and {@code jdbc:postgresql://...}.
 */
public record LedgerUrl(Dialect dialect, String jdbcUrl, Properties properties, String display, Path sqliteFile) {

  public static final String DEFAULT = "sqlite:conveyor-data/conveyor.db";

  public static LedgerUrl parse(String url) {
    String raw = url == null || url.isBlank() ? DEFAULT : url.trim();
    if (raw.startsWith("jdbc:sqlite:")) {
      return sqlite(raw.substring("jdbc:sqlite:".length()), raw);
    }
    if (raw.startsWith("sqlite:")) {
      String file = raw.substring("sqlite:".length());
      if (file.startsWith("//")) {
        file = file.substring(2);
      }
      return sqlite(file, raw);
    }
    if (raw.startsWith("jdbc:postgresql:")) {
      return new LedgerUrl(Dialect.POSTGRESQL, raw, new Properties(), redact(raw), null);
    }
    if (raw.startsWith("postgresql://") || raw.startsWith("postgres://")) {
      return postgres(raw);
    }
    throw new LedgerException("unsupported ledger URL '" + redact(raw)
        + "': use sqlite:<file> (the embedded default) or postgresql://user@host:5432/database");
  }

  private static LedgerUrl sqlite(String file, String raw) {
    if (file.isBlank() || file.startsWith(":memory")) {
      throw new LedgerException("ledger URL '" + raw + "' names no file: use sqlite:<path-to-file>");
    }
    Path path = Path.of(file).toAbsolutePath().normalize();
    return new LedgerUrl(Dialect.SQLITE, "jdbc:sqlite:" + path, new Properties(), "sqlite:" + path, path);
  }

  private static LedgerUrl postgres(String raw) {
    URI uri;
    try {
      uri = new URI(raw);
    } catch (URISyntaxException e) {
      throw new LedgerException("malformed PostgreSQL ledger URL '" + redact(raw) + "': " + e.getReason());
    }
    if (uri.getHost() == null) {
      throw new LedgerException("PostgreSQL ledger URL '" + redact(raw) + "' names no host");
    }
    String path = uri.getRawPath();
    if (path == null || path.length() <= 1) {
      throw new LedgerException("PostgreSQL ledger URL '" + redact(raw) + "' names no database (…/database)");
    }
    int port = uri.getPort() == -1 ? 5432 : uri.getPort();
    StringBuilder jdbc = new StringBuilder("jdbc:postgresql://").append(uri.getHost()).append(':').append(port).append(path);
    if (uri.getRawQuery() != null) {
      jdbc.append('?').append(uri.getRawQuery());
    }
    Properties props = new Properties();
    if (uri.getRawUserInfo() != null) {
      String[] userInfo = uri.getRawUserInfo().split(":", 2);
      props.setProperty("user", decode(userInfo[0]));
      if (userInfo.length == 2) {
        props.setProperty("password", decode(userInfo[1]));
      }
    }
    return new LedgerUrl(Dialect.POSTGRESQL, jdbc.toString(), props, redact(raw), null);
  }

  private static String decode(String s) {
    return URLDecoder.decode(s, StandardCharsets.UTF_8);
  }

  /** The URL with any password replaced, safe for logs and error messages. */
  static String redact(String raw) {
    return raw.replaceAll("://([^:/@]+):[^@/]*@", "://$1:***@").replaceAll("(?i)(password=)[^&]*", "$1***");
  }

  @Override
  public String toString() {
    return display;
  }
}
