package dev.conveyor.app.cli;

import dev.conveyor.ledger.LedgerException;
import java.io.PrintWriter;
import picocli.CommandLine;
import picocli.CommandLine.IExecutionExceptionHandler;
import picocli.CommandLine.ParameterException;
import picocli.CommandLine.ParseResult;

/** Turns any failure into one clear line with a hint; a stack trace only with CONVEYOR_DEBUG=1. */
public final class ErrorReporter implements IExecutionExceptionHandler {
  public static final int EXIT_FAILURE = 1;
  public static final int EXIT_USAGE = 2;

  @Override
  public int handleExecutionException(Exception e, CommandLine cmd, ParseResult parsed) {
    PrintWriter err = cmd.getErr();
    err.println("error: " + describe(e));
    String hint = hint(e, cmd);
    if (hint != null) {
      err.println("hint: " + hint);
    }
    if ("1".equals(System.getenv("CONVEYOR_DEBUG"))) {
      e.printStackTrace(err);
    }
    err.flush();
    return e instanceof IllegalArgumentException ? EXIT_USAGE : EXIT_FAILURE;
  }

  public static int parameterError(ParameterException e, String[] args) {
    CommandLine cmd = e.getCommandLine();
    cmd.getErr().println("error: " + e.getMessage());
    cmd.getErr().println("hint: run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage");
    cmd.getErr().flush();
    return EXIT_USAGE;
  }

  private static String describe(Exception e) {
    if (e instanceof io.grpc.StatusRuntimeException s && s.getStatus().getCode() == io.grpc.Status.Code.UNIMPLEMENTED
        && String.valueOf(s.getStatus().getDescription()).contains("submitqueue.Gateway")) {
      return "that server runs no merge queue (it has no queue.<name>.* settings)";
    }
    if (e instanceof io.grpc.StatusRuntimeException s) {
      String description = s.getStatus().getDescription();
      return switch (s.getStatus().getCode()) {
        // a refusal of what was asked: the server's words name the thing and why
        case INVALID_ARGUMENT, FAILED_PRECONDITION, NOT_FOUND, ALREADY_EXISTS, OUT_OF_RANGE, ABORTED ->
            description == null ? "refused (" + s.getStatus().getCode() + ")" : description;
        case UNAVAILABLE -> "the server could not be reached or is unavailable (UNAVAILABLE"
            + (description == null ? "" : ": " + description) + ")";
        default -> "the server answered " + s.getStatus().getCode() + (description == null ? "" : ": " + description);
      };
    }
    if (e instanceof LedgerException || e instanceof IllegalArgumentException || e instanceof UserError) {
      return e.getMessage();
    }
    if (e instanceof java.io.IOException) {
      return e.getClass().getSimpleName() + ": " + e.getMessage();
    }
    return "unexpected " + e.getClass().getSimpleName() + ": " + e.getMessage();
  }

  private static String hint(Exception e, CommandLine cmd) {
    if (e instanceof UserError u && u.hint() != null) {
      return u.hint();
    }
    if (e instanceof io.grpc.StatusRuntimeException s) {
      String reason = dev.conveyor.api.ErrorStatus.reasonOf(s);
      if ("CATALOG_UNAVAILABLE".equals(reason) || "LEDGER_UNAVAILABLE".equals(reason)) {
        return "the server is up but " + (reason.startsWith("CATALOG") ? "the table's catalog or storage" : "its ledger")
            + " is not reachable now; try again shortly";
      }
      return switch (s.getStatus().getCode()) {
        case UNAVAILABLE -> "is 'conveyor serve' running there? (--server, or CONVEYOR_SERVER)";
        case UNAUTHENTICATED, PERMISSION_DENIED -> "check --token-file (the server's data directory holds local-token)";
        case UNIMPLEMENTED -> "configure a queue (queue.<name>.remote, queue.<name>.build-command) and restart serve,"
            + " or pass --server for the node that runs it";
        case INVALID_ARGUMENT -> "run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage";
        case NOT_FOUND -> "check the id: 'conveyor list' shows land requests, 'conveyor jobs list' jobs,"
            + " 'conveyor capture tables' tables";
        // the request ended, a batch is merging, a queue drains: nothing to change in the command
        default -> reasonHint(dev.conveyor.api.ErrorStatus.reasonOf(s));
      };
    }
    if (e instanceof dev.conveyor.ledger.jobs.JobErrors.JobNotFoundException) {
      return "'conveyor jobs list' shows the ids in this ledger (is --ledger the right one?)";
    }
    if (e instanceof LedgerException && e.getMessage() != null && e.getMessage().contains("cannot open ledger")) {
      return "check --ledger (or CONVEYOR_LEDGER); the default is sqlite:conveyor-data/conveyor.db";
    }
    if (!(e instanceof LedgerException) && !(e instanceof IllegalArgumentException) && !(e instanceof UserError)
        && !(e instanceof io.grpc.StatusRuntimeException)) {
      return "re-run with CONVEYOR_DEBUG=1 for details";
    }
    return "run '" + cmd.getCommandSpec().qualifiedName() + " --help' for usage";
  }

  /** What to do about a refusal the server named by its ErrorInfo reason, or nothing to add. */
  private static String reasonHint(String reason) {
    if (reason == null) {
      return null;
    }
    return switch (reason) {
      case "ALREADY_TERMINAL" -> "it has ended: 'conveyor status ID' shows how";
      case "QUEUE_DRAINING" -> "the queue is draining: 'conveyor runway queues' or the status page shows its state";
      case "CLAIM_LOST" -> "another holder owns the effect now: 'conveyor durability effects' shows who";
      case "LEASE_LOST" -> "another worker holds the job now";
      default -> null;
    };
  }

  /** A failure caused by what the user asked for, with a hint on what to do instead. */
  public static final class UserError extends RuntimeException {
    private static final long serialVersionUID = 1L;
    private final String hint;

    public UserError(String message, String hint) {
      super(message);
      this.hint = hint;
    }

    public String hint() {
      return hint;
    }
  }
}
