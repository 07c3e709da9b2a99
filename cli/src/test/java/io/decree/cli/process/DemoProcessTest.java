package io.decree.cli.process;

import static org.assertj.core.api.Assertions.assertThat;

import io.decree.cli.DecreeCommand;
import java.io.ByteArrayOutputStream;
import java.io.PrintStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;
import org.junit.jupiter.api.io.CleanupMode;
import org.junit.jupiter.api.io.TempDir;

/**
 * The README's main command, {@code decree demo}, end to end: its own child JVMs, its kill -9s, its
 * recovery and its final check. The demo exits 0 only when the total balance is conserved, nothing
 * is left in doubt and every UNKNOWN answer was resolved to a definite outcome.
 */
class DemoProcessTest {
  // Kept when a test fails: the child processes' logs are in it.
  @TempDir(cleanup = CleanupMode.ON_SUCCESS)
  Path dir;

  @Test
  @Timeout(value = 5, unit = TimeUnit.MINUTES)
  void theDemoCrashesItsNodesRecoversAndConservesTheTotal() {
    ByteArrayOutputStream captured = new ByteArrayOutputStream();
    PrintStream original = System.out;
    int exit;
    System.setOut(new PrintStream(captured, true, StandardCharsets.UTF_8));
    try {
      exit =
          DecreeCommand.commandLine()
              .execute("demo", "--transfers", "120", "--seed", "7", "--data-dir", dir.toString());
    } finally {
      System.setOut(original);
    }
    String output = captured.toString(StandardCharsets.UTF_8);
    original.print(output); // the demo's story, in the test report

    assertThat(exit).as("demo exit code").isZero();
    assertThat(output).contains("kill -9").contains("conserved").doesNotContain("NOT CONSERVED");
  }
}
