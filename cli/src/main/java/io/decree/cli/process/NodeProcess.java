package io.decree.cli.process;

import io.decree.cli.DecreeCommand;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A Decree node (coordinator or service) running as its own JVM, started from this one's jar or
 * classpath. Its output goes to a log file; it is ready once it printed "listening on host:port".
 */
public final class NodeProcess implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("listening on (\\S+:\\d+)");

  /**
   * Chronicle Queue's Java 17 flags; a jar carries them in its manifest, a child JVM started from a
   * classpath needs them on its command line.
   */
  public static final List<String> CHRONICLE_FLAGS =
      List.of(
          "--add-exports=java.base/jdk.internal.ref=ALL-UNNAMED",
          "--add-exports=java.base/sun.nio.ch=ALL-UNNAMED",
          "--add-exports=java.base/jdk.internal.misc=ALL-UNNAMED",
          "--add-exports=java.base/jdk.internal.util=ALL-UNNAMED",
          "--add-opens=java.base/java.lang=ALL-UNNAMED",
          "--add-opens=java.base/java.lang.reflect=ALL-UNNAMED",
          "--add-opens=java.base/java.io=ALL-UNNAMED",
          "--add-opens=java.base/java.util=ALL-UNNAMED");

  private final String name;
  private List<String> command;
  private final List<String> jvmOptions;
  private final Path log;
  private Process process;
  private String address;

  private NodeProcess(String name, List<String> command, List<String> jvmOptions, Path log) {
    this.name = name;
    this.command = command;
    this.jvmOptions = jvmOptions;
    this.log = log;
  }

  /** The same node without the extra JVM options it was created with (for a clean restart). */
  public NodeProcess withoutJvmOptions() {
    List<String> clean = new ArrayList<>(command);
    clean.removeAll(jvmOptions);
    command = clean;
    return this;
  }

  /**
   * Prepares (does not start) {@code decree <args>} as a child JVM.
   *
   * @param log file that receives the child's stdout and stderr (appended across restarts)
   */
  public static NodeProcess of(String name, Path log, List<String> args) {
    return of(name, log, List.of(), args);
  }

  /** Like {@link #of(String, Path, List)}, with extra JVM options (e.g. test fault switches). */
  public static NodeProcess of(String name, Path log, List<String> jvmOptions, List<String> args) {
    List<String> command = new ArrayList<>(launcher(jvmOptions));
    command.addAll(args);
    return new NodeProcess(name, command, List.copyOf(jvmOptions), log);
  }

  private static List<String> launcher(List<String> jvmOptions) {
    List<String> prefix = new ArrayList<>();
    prefix.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    prefix.addAll(jvmOptions);
    prefix.add("-Xmx512m");
    prefix.add("-Dchronicle.analytics.disable=true");
    prefix.add("-Dchronicle.announcer.disable=true");
    prefix.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
    Path self = codeSource();
    if (self.toString().endsWith(".jar")) {
      prefix.add("-jar");
      prefix.add(self.toString());
    } else {
      prefix.addAll(CHRONICLE_FLAGS);
      prefix.add("-cp");
      prefix.add(System.getProperty("java.class.path"));
      prefix.add(DecreeCommand.class.getName());
    }
    return prefix;
  }

  private static Path codeSource() {
    try {
      return Path.of(
          DecreeCommand.class.getProtectionDomain().getCodeSource().getLocation().toURI());
    } catch (URISyntaxException e) {
      throw new IllegalStateException("cannot locate the decree jar", e);
    }
  }

  /** Starts the process and waits until it listens. */
  public NodeProcess start(Duration timeout) {
    try {
      Files.createDirectories(log.getParent());
      long offset = Files.exists(log) ? Files.size(log) : 0;
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      address = awaitListening(offset, timeout);
      return this;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + e.getMessage(), e);
    }
  }

  private String awaitListening(long offset, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      String output = newOutput(offset);
      Matcher m = LISTENING.matcher(output);
      if (m.find()) {
        return m.group(1);
      }
      if (!process.isAlive()) {
        throw new IllegalStateException(
            name + " exited with " + process.exitValue() + " before listening; see " + log);
      }
      try {
        Thread.sleep(50);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while starting " + name, e);
      }
    }
    kill();
    throw new IllegalStateException(name + " did not start within " + timeout + "; see " + log);
  }

  /** What the process wrote since {@code offset}. */
  public String newOutput(long offset) throws IOException {
    byte[] all = Files.readAllBytes(log);
    return new String(
        all,
        (int) Math.min(offset, all.length),
        (int) Math.max(0, all.length - offset),
        StandardCharsets.UTF_8);
  }

  public long logSize() throws IOException {
    return Files.exists(log) ? Files.size(log) : 0;
  }

  public String name() {
    return name;
  }

  public String address() {
    return address;
  }

  public long pid() {
    return process.pid();
  }

  public boolean alive() {
    return process != null && process.isAlive();
  }

  public Path log() {
    return log;
  }

  /** kill -9: no shutdown hook, no flush, nothing but what is already on disk survives. */
  public void kill() {
    if (process != null && process.isAlive()) {
      process.destroyForcibly();
      try {
        process.waitFor();
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  /** A clean stop (SIGTERM), then kill -9 if it does not exit in time. */
  @Override
  public void close() {
    if (process != null && process.isAlive()) {
      process.destroy();
      try {
        if (!process.waitFor(10, java.util.concurrent.TimeUnit.SECONDS)) {
          kill();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill();
      }
    }
  }
}
