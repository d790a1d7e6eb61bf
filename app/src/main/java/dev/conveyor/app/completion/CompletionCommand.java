package dev.conveyor.app.completion;

import java.util.List;
import java.util.concurrent.Callable;
import java.util.function.Supplier;
import picocli.AutoComplete;
import picocli.CommandLine;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;

/**
 * Shell completion generated from the command tree itself (picocli's generator), so it never lags a new
 * command or option. The script is bash's; zsh runs it through its bash completion layer (the script loads
 * {@code bashcompinit} when it finds itself in zsh).
 */
@Command(name = "completion", mixinStandardHelpOptions = true,
    description = {"Print a completion script for bash or zsh, generated from every command and option.",
        "bash: source <(bin/conveyor completion bash)   (or save it under /etc/bash_completion.d/conveyor)",
        "zsh:  source <(bin/conveyor completion zsh)    (in ~/.zshrc, after compinit)"})
public final class CompletionCommand implements Callable<Integer> {
  private final Supplier<CommandLine> fullTree;

  @Parameters(paramLabel = "SHELL", defaultValue = "bash", description = "bash (default) or zsh.")
  String shell;

  /** {@code fullTree} builds the CLI with every command (the launcher registers only the one it runs). */
  public CompletionCommand(Supplier<CommandLine> fullTree) {
    this.fullTree = fullTree;
  }

  @Override
  public Integer call() {
    if (!List.of("bash", "zsh").contains(shell)) {
      throw new IllegalArgumentException("SHELL must be bash or zsh, got '" + shell + "'");
    }
    CommandLine cli = fullTree.get();
    cli.getSubcommands().remove("startup-training"); // an internal step of the build, not for people
    System.out.print(AutoComplete.bash("conveyor", cli));
    return 0;
  }
}
