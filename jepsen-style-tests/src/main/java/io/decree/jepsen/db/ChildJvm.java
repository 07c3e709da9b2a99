package io.decree.jepsen.db;

import io.decree.cli.process.NodeProcess;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;
import java.util.stream.Stream;

/**
 * A node of the system under test: its own JVM, started from this JVM's classpath (which, from the
 * jepsen jar, is the jar and the libraries its manifest names), with one log file appended across
 * restarts. Ready once it printed "listening on host:port" (as the cli's NodeProcess expects). kill
 * -9, SIGSTOP and SIGCONT act on the real process.
 */
public final class ChildJvm implements AutoCloseable {
  private static final Pattern LISTENING = Pattern.compile("listening on (\\S+:\\d+)");

  /** Chronicle Queue's Java 17 flags (the same list NodeProcess uses) and its switches. */
  private static final List<String> CHRONICLE_FLAGS =
      Stream.concat(
              NodeProcess.CHRONICLE_FLAGS.stream(),
              Stream.of("-Dchronicle.analytics.disable=true", "-Dchronicle.announcer.disable=true"))
          .toList();

  private final String name;
  private final String mainClass;
  private final List<String> args;
  private final Path log;
  private List<String> jvmOptions;
  private Process process;
  private volatile long pid = -1;
  private volatile boolean paused;

  public ChildJvm(
      String name, Path log, String mainClass, List<String> jvmOptions, List<String> args) {
    this.name = name;
    this.log = log;
    this.mainClass = mainClass;
    this.jvmOptions = List.copyOf(jvmOptions);
    this.args = List.copyOf(args);
  }

  public String name() {
    return name;
  }

  public Path log() {
    return log;
  }

  public List<String> jvmOptions() {
    return jvmOptions;
  }

  /** Later starts run without the test fault switches this node began with. */
  public void dropJvmOptions() {
    jvmOptions = List.of();
  }

  public synchronized boolean alive() {
    return process != null && process.isAlive();
  }

  public synchronized boolean paused() {
    return paused && alive();
  }

  /** The running JVM's pid, or -1; never waits (a start holds the lock until the node listens). */
  public long pid() {
    return pid;
  }

  /** Starts the JVM and waits until it listens. */
  public synchronized void start(Duration timeout) {
    if (alive()) {
      throw new IllegalStateException(name + " is already running");
    }
    List<String> command = new ArrayList<>();
    command.add(Path.of(System.getProperty("java.home"), "bin", "java").toString());
    command.addAll(jvmOptions);
    command.add("-Xmx384m");
    command.add("-XX:+UseSerialGC");
    command.add("-XX:TieredStopAtLevel=1");
    command.add("-Dorg.slf4j.simpleLogger.showDateTime=true");
    command.add("-Dorg.slf4j.simpleLogger.dateTimeFormat=HH:mm:ss.SSS");
    command.addAll(CHRONICLE_FLAGS);
    command.add("-cp");
    command.add(System.getProperty("java.class.path"));
    command.add(mainClass);
    command.addAll(args);
    try {
      Files.createDirectories(log.getParent());
      long offset = Files.exists(log) ? Files.size(log) : 0;
      Files.writeString(
          log,
          "==== harness: starting " + name + " " + String.join(" ", args) + "\n",
          StandardCharsets.UTF_8,
          java.nio.file.StandardOpenOption.CREATE,
          java.nio.file.StandardOpenOption.APPEND);
      process =
          new ProcessBuilder(command)
              .redirectErrorStream(true)
              .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
              .start();
      pid = process.pid();
      paused = false;
      awaitListening(offset, timeout);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot start " + name + ": " + e.getMessage(), e);
    }
  }

  private void awaitListening(long offset, Duration timeout) throws IOException {
    long deadline = System.nanoTime() + timeout.toNanos();
    while (System.nanoTime() < deadline) {
      byte[] all = Files.readAllBytes(log);
      String output =
          new String(
              all,
              (int) Math.min(offset, all.length),
              (int) Math.max(0, all.length - offset),
              StandardCharsets.UTF_8);
      Matcher m = LISTENING.matcher(output);
      if (m.find()) {
        return;
      }
      if (!process.isAlive()) {
        throw new IllegalStateException(
            name + " exited with " + process.exitValue() + " before listening; see " + log);
      }
      sleep(50);
    }
    kill9();
    throw new IllegalStateException(name + " did not start within " + timeout + "; see " + log);
  }

  /** kill -9: no shutdown hook, nothing but what already reached the OS survives. */
  public synchronized void kill9() {
    if (process != null && process.isAlive()) {
      if (paused) {
        signal("CONT"); // a stopped process dies of SIGKILL too, but let the log say so plainly
      }
      process.destroyForcibly();
      try {
        process.waitFor(30, TimeUnit.SECONDS);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
    paused = false;
  }

  /** SIGSTOP: the process is frozen, its sockets stay open and silent. */
  public synchronized void pause() {
    if (alive() && !paused) {
      signal("STOP");
      paused = true;
    }
  }

  /** SIGCONT. */
  public synchronized void resume() {
    if (alive() && paused) {
      signal("CONT");
    }
    paused = false;
  }

  private void signal(String sig) {
    try {
      Process kill = new ProcessBuilder("kill", "-" + sig, Long.toString(process.pid())).start();
      if (!kill.waitFor(10, TimeUnit.SECONDS)) {
        kill.destroyForcibly();
      }
    } catch (IOException e) {
      throw new UncheckedIOException("cannot send SIG" + sig + " to " + name, e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
  }

  /** A clean stop (SIGTERM; shutdown hooks close the logs), kill -9 if it takes too long. */
  @Override
  public synchronized void close() {
    if (process != null && process.isAlive()) {
      resume();
      process.destroy();
      try {
        if (!process.waitFor(15, TimeUnit.SECONDS)) {
          kill9();
        }
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        kill9();
      }
    }
  }

  private static void sleep(long millis) {
    try {
      Thread.sleep(millis);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IllegalStateException("interrupted", e);
    }
  }
}
