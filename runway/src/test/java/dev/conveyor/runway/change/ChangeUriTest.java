package dev.conveyor.runway.change;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.api.Test;

class ChangeUriTest {
  private static final String SHA = "0123456789abcdef0123456789abcdef01234567";

  @Test
  void acceptsFullRefsAndBranchNames() throws Exception {
    ChangeUri full = ChangeUri.parse("change://origin/refs/changes/12/1234/2@" + SHA);
    assertThat(full.remote()).isEqualTo("origin");
    assertThat(full.ref()).isEqualTo("refs/changes/12/1234/2");
    assertThat(full.sha().name()).isEqualTo(SHA);

    ChangeUri branch = ChangeUri.parse("change://fork/feature/login@" + SHA.toUpperCase());
    assertThat(branch.ref()).isEqualTo("refs/heads/feature/login");
    assertThat(branch.shortRef()).isEqualTo("feature/login");
    assertThat(branch.sha().name()).isEqualTo(SHA);
    assertThat(branch).hasToString("change://fork/refs/heads/feature/login@" + SHA);
  }

  @Test
  void rejectsEverythingElseWithTheReasonAndTheForm() {
    assertThatThrownBy(() -> ChangeUri.parse("https://github.com/o/r/pull/1"))
        .hasMessageContaining("only the change:// scheme").hasMessageContaining(ChangeUri.FORM);
    assertThatThrownBy(() -> ChangeUri.parse("change://origin/main@abc123"))
        .hasMessageContaining("'abc123' is not a full 40-character hex commit id");
    assertThatThrownBy(() -> ChangeUri.parse("change://origin/main"))
        .hasMessageContaining("needs a remote name, a ref and a commit");
    assertThatThrownBy(() -> ChangeUri.parse("change://origin/bad..ref@" + SHA))
        .hasMessageContaining("not a valid git ref name");
    assertThatThrownBy(() -> ChangeUri.parse("")).hasMessageContaining("it is empty");
  }
}
