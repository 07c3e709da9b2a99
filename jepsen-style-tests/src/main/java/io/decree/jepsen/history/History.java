package io.decree.jepsen.history;

import com.google.gson.Gson;
import com.google.gson.JsonObject;
import com.google.gson.JsonParser;
import java.io.BufferedWriter;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/**
 * The recorded history of a run: appended by many threads, one JSON object per line (JSON Lines),
 * flushed line by line so a crashed harness still leaves what it saw. Also parses a history back.
 */
public final class History implements AutoCloseable {
  private static final Gson GSON = new Gson();

  private final long startNanos;
  private final BufferedWriter out;
  private final List<Op> ops = new ArrayList<>(); // guarded by this
  private long next; // guarded by this

  public History(Path file) {
    this(file, System.nanoTime());
  }

  History(Path file, long startNanos) {
    this.startNanos = startNanos;
    try {
      Files.createDirectories(file.toAbsolutePath().getParent());
      this.out = Files.newBufferedWriter(file, StandardCharsets.UTF_8);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write history " + file, e);
    }
  }

  /** Nanoseconds since the run began. */
  public long now() {
    return System.nanoTime() - startNanos;
  }

  /** Appends an operation stamped with the current time; returns it. */
  public Op add(String process, String type, String f, JsonObject value, String tx, String error) {
    long time = now();
    synchronized (this) {
      Op op = new Op(next++, process, type, f, value, time, tx, error);
      ops.add(op);
      try {
        out.write(toJson(op));
        out.write('\n');
        out.flush();
      } catch (IOException e) {
        throw new UncheckedIOException("cannot append to the history", e);
      }
      return op;
    }
  }

  public synchronized List<Op> ops() {
    return List.copyOf(ops);
  }

  public static String toJson(Op op) {
    JsonObject o = new JsonObject();
    o.addProperty("index", op.index());
    o.addProperty("process", op.process());
    o.addProperty("type", op.type());
    o.addProperty("f", op.f());
    o.add("value", op.value());
    o.addProperty("time", op.timeNanos());
    if (op.tx() != null) {
      o.addProperty("tx", op.tx());
    }
    if (op.error() != null) {
      o.addProperty("error", op.error());
    }
    return GSON.toJson(o);
  }

  public static Op fromJson(String line) {
    JsonObject o = JsonParser.parseString(line).getAsJsonObject();
    return new Op(
        o.get("index").getAsLong(),
        o.get("process").getAsString(),
        o.get("type").getAsString(),
        o.get("f").getAsString(),
        o.has("value") ? o.getAsJsonObject("value") : new JsonObject(),
        o.get("time").getAsLong(),
        o.has("tx") ? o.get("tx").getAsString() : null,
        o.has("error") ? o.get("error").getAsString() : null);
  }

  /** Reads a history file back. */
  public static List<Op> read(Path file) {
    try {
      List<Op> ops = new ArrayList<>();
      for (String line : Files.readAllLines(file, StandardCharsets.UTF_8)) {
        if (!line.isBlank()) {
          ops.add(fromJson(line));
        }
      }
      return ops;
    } catch (IOException e) {
      throw new UncheckedIOException("cannot read history " + file, e);
    }
  }

  @Override
  public synchronized void close() {
    try {
      out.close();
    } catch (IOException e) {
      throw new UncheckedIOException("cannot close the history", e);
    }
  }
}
