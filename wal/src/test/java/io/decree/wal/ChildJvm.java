package io.decree.wal;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.lang.management.ManagementFactory;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.BlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/** A child JVM on the test classpath with Chronicle's flags; closing it kills it (SIGKILL). */
final class ChildJvm implements AutoCloseable {
  private static final String EOF = "\u0000EOF";
  private final Process process;
  private final BlockingQueue<String> lines = new LinkedBlockingQueue<>();

  private ChildJvm(Process process) {
    this.process = process;
    Thread reader =
        new Thread(
            () -> {
              try (BufferedReader r =
                  new BufferedReader(
                      new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8))) {
                String line;
                while ((line = r.readLine()) != null) {
                  lines.add(line);
                }
              } catch (IOException ignored) {
                // The child was killed mid-line; what was read is what counts.
              } finally {
                lines.add(EOF);
              }
            },
            "child-stdout");
    reader.setDaemon(true);
    reader.start();
  }

  static ChildJvm start(Path logFile, Class<?> main, String... args) throws IOException {
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    for (String arg : ManagementFactory.getRuntimeMXBean().getInputArguments()) {
      if (arg.startsWith("--add-") || arg.startsWith("-Dchronicle")) {
        command.add(arg);
      }
    }
    command.add("-Xmx256m");
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(main.getName());
    command.addAll(List.of(args));
    ProcessBuilder pb = new ProcessBuilder(command);
    pb.redirectError(ProcessBuilder.Redirect.appendTo(logFile.toFile()));
    return new ChildJvm(pb.start());
  }

  long pid() {
    return process.pid();
  }

  /** The next stdout line, or null at end of output or after the timeout. */
  String nextLine(long timeoutMillis) throws InterruptedException {
    String line = lines.poll(timeoutMillis, TimeUnit.MILLISECONDS);
    if (line == null || line.equals(EOF)) {
      if (line != null) {
        lines.add(EOF);
      }
      return null;
    }
    return line;
  }

  /** Waits for a line equal to {@code wanted}, collecting ACK lines seen on the way. */
  boolean awaitLine(String wanted, long timeoutMillis, List<String> seen)
      throws InterruptedException {
    long deadline = System.nanoTime() + TimeUnit.MILLISECONDS.toNanos(timeoutMillis);
    while (System.nanoTime() < deadline) {
      String line = nextLine(Math.max(1, (deadline - System.nanoTime()) / 1_000_000));
      if (line == null) {
        return false;
      }
      if (line.equals(wanted)) {
        return true;
      }
      seen.add(line);
    }
    return false;
  }

  /** Kills with SIGKILL, waits for death, then returns every line the child printed. */
  List<String> killAndDrain() throws InterruptedException {
    process.destroyForcibly();
    process.waitFor(30, TimeUnit.SECONDS);
    List<String> rest = new ArrayList<>();
    String line;
    while ((line = nextLine(5_000)) != null) {
      rest.add(line);
    }
    return rest;
  }

  @Override
  public void close() {
    process.destroyForcibly();
    try {
      process.waitFor(30, TimeUnit.SECONDS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }
}
