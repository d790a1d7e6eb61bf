package dev.conveyor.app;

import static dev.conveyor.app.testing.Cli.run;
import static org.assertj.core.api.Assertions.assertThat;

import dev.conveyor.app.testing.Cli.Run;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The completion script, generated from the command tree, completes commands and options in a real bash. */
class CompletionTest {
  @TempDir Path dir;

  @Test
  void bashCompletesCommandsSubcommandsAndOptions() throws Exception {
    Run script = run("completion", "bash");
    assertThat(script.exit()).as(script.err()).isZero();
    assertThat(script.out()).contains("complete -F _complete_conveyor").doesNotContain("startup-training");
    Path file = Files.writeString(dir.resolve("conveyor.bash"), script.out());
    assertThat(complete(file, "conveyor dur")).isEqualTo("durability");
    assertThat(complete(file, "conveyor capture add")).isEqualTo("add-table");
    assertThat(complete(file, "conveyor capture add-table t /x --ice")).isEqualTo("--iceberg");
    assertThat(complete(file, "conveyor durability effects --st")).isEqualTo("--state");

    Run fish = run("completion", "fish");
    assertThat(fish.exit()).isNotZero();
    assertThat(fish.err()).contains("SHELL must be bash or zsh");
  }

  /** What bash offers for the last word of {@code line}, as a person pressing Tab would get it. */
  private String complete(Path script, String line) throws Exception {
    String[] words = line.split(" ");
    String program = "source '" + script + "' 2>/dev/null\n"
        + "COMP_WORDS=(" + line + "); COMP_CWORD=" + (words.length - 1) + "; COMP_LINE='" + line + "';"
        + " COMP_POINT=${#COMP_LINE}\n"
        + "_complete_conveyor conveyor '" + words[words.length - 1] + "' '" + words[words.length - 2] + "' 2>/dev/null\n"
        + "echo \"${COMPREPLY[*]}\"\n";
    Process bash = new ProcessBuilder("bash", "-c", program).directory(dir.toFile()).redirectErrorStream(true).start();
    String out = new String(bash.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
    assertThat(bash.waitFor(30, TimeUnit.SECONDS)).isTrue();
    return out;
  }
}
