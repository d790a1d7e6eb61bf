package dev.conveyor.app;

import ch.qos.logback.classic.Level;
import ch.qos.logback.classic.LoggerContext;
import ch.qos.logback.classic.encoder.PatternLayoutEncoder;
import ch.qos.logback.classic.spi.Configurator;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.ConsoleAppender;
import ch.qos.logback.core.spi.ContextAwareBase;
import org.slf4j.Logger;

/**
 * Conveyor's logging, set up in code: the CLI speaks to people on stdout, logs go to stderr and stay
 * quiet unless asked ({@code CONVEYOR_LOG_LEVEL}, a system property or the environment; 'serve' logs
 * dev.conveyor at INFO), and the ids of the work in hand follow the logger in [key=value] form. Done in
 * code rather than logback.xml because parsing XML was a fifth of every short command's start-up; a
 * file named by {@code -Dlogback.configurationFile} still wins.
 */
public final class LogSetup extends ContextAwareBase implements Configurator {
  static final String PATTERN = "%d{yyyy-MM-dd'T'HH:mm:ss.SSSXXX} %-5level %logger{24}%replace( [%X]){' \\[\\]', ''}"
      + " - %msg%n";

  @Override
  public ExecutionStatus configure(LoggerContext context) {
    // Only a named file defers: looking for a logback.xml on the class path misses in every jar, and
    // opening them all cost a short command ~0.1 s.
    if (System.getProperty("logback.configurationFile") != null) {
      return ExecutionStatus.INVOKE_NEXT_IF_ANY;
    }
    PatternLayoutEncoder encoder = new PatternLayoutEncoder();
    encoder.setContext(context);
    encoder.setPattern(PATTERN);
    encoder.start();
    ConsoleAppender<ILoggingEvent> stderr = new ConsoleAppender<>();
    stderr.setContext(context);
    stderr.setName("STDERR");
    stderr.setTarget("System.err");
    stderr.setEncoder(encoder);
    stderr.start();
    ch.qos.logback.classic.Logger root = context.getLogger(Logger.ROOT_LOGGER_NAME);
    root.setLevel(Level.toLevel(level(), Level.WARN));
    root.addAppender(stderr);
    // A restarted database breaks every pooled connection, and the pool would print a stack trace for
    // each; the ledger retries them and callers log what outlasts its retry budget, once.
    context.getLogger("com.zaxxer.hikari.pool.ProxyConnection").setLevel(Level.ERROR);
    return ExecutionStatus.DO_NOT_INVOKE_NEXT_IF_ANY;
  }

  private static String level() {
    String level = System.getProperty("CONVEYOR_LOG_LEVEL");
    return level != null ? level : System.getenv("CONVEYOR_LOG_LEVEL");
  }
}
