package io.decree.jepsen.report;

import com.google.gson.GsonBuilder;
import com.google.gson.JsonArray;
import com.google.gson.JsonObject;
import io.decree.jepsen.JepsenRun;
import io.decree.jepsen.RunConfig;
import io.decree.jepsen.check.Verdict;
import io.decree.jepsen.history.Op;
import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Writes a run's folder: results.json, plots, index.html, and the {@code latest} link beside it.
 */
public final class Report {
  private Report() {}

  /** Client completions by type (ok, fail, info), per operation and in all. */
  public static Map<String, Long> counts(List<Op> history) {
    Map<String, Long> out = new LinkedHashMap<>();
    out.put("ok", 0L);
    out.put("fail", 0L);
    out.put("info", 0L);
    for (Op op : history) {
      if (op.isCompletion() && !op.process().equals("final")) {
        out.merge(op.type(), 1L, Long::sum);
        out.merge(op.f() + "." + op.type(), 1L, Long::sum);
      }
    }
    return out;
  }

  public static void write(
      JepsenRun.Result result, RunConfig config, List<Op> history, List<Path> logs, String git) {
    Path dir = result.dir();
    try {
      JsonObject json = new JsonObject();
      json.addProperty("validity", result.validity().toString());
      json.addProperty("workload", config.workload());
      json.addProperty("seed", config.seed());
      json.addProperty("gitRevision", git);
      json.addProperty("timeSeconds", config.time().toSeconds());
      json.addProperty("coordinators", config.coordinators());
      json.addProperty("participants", config.participants());
      json.addProperty("clients", config.clients());
      JsonArray nemeses = new JsonArray();
      config.nemeses().forEach(nemeses::add);
      json.add("nemeses", nemeses);
      JsonObject switches = new JsonObject();
      config
          .jvmOptions()
          .forEach((node, opts) -> switches.addProperty(node, String.join(" ", opts)));
      json.add("faultSwitches", switches);
      JsonObject counts = new JsonObject();
      result.counts().forEach(counts::addProperty);
      json.add("counts", counts);
      JsonObject faults = new JsonObject();
      result.faults().forEach(faults::addProperty);
      json.add("faults", faults);
      JsonArray checkers = new JsonArray();
      for (Verdict v : result.verdicts()) {
        JsonObject o = new JsonObject();
        o.addProperty("checker", v.checker());
        o.addProperty("validity", v.validity().toString());
        o.addProperty("summary", v.summary());
        o.addProperty("checked", v.checked());
        JsonArray off = new JsonArray();
        v.offending().forEach(off::add);
        o.add("offending", off);
        checkers.add(o);
      }
      json.add("checkers", checkers);
      Files.writeString(
          dir.resolve("results.json"),
          new GsonBuilder().setPrettyPrinting().disableHtmlEscaping().create().toJson(json),
          StandardCharsets.UTF_8);
      Plots.write(history, dir);
      Files.writeString(
          dir.resolve("index.html"),
          Html.page(result, config, history, logs, git),
          StandardCharsets.UTF_8);
      pruneData(dir.resolve("nodes"));
      linkLatest(dir);
    } catch (IOException e) {
      throw new UncheckedIOException("cannot write the report in " + dir, e);
    }
  }

  /** Keeps each node's log, drops its data directory (the logs and stores can be large). */
  private static void pruneData(Path nodes) throws IOException {
    if (Boolean.getBoolean("decree.jepsen.keepData") || !Files.isDirectory(nodes)) {
      return;
    }
    try (var children = Files.list(nodes)) {
      for (Path child : children.toList()) {
        if (Files.isDirectory(child)) {
          try (var walk = Files.walk(child)) {
            for (Path p : walk.sorted(java.util.Comparator.reverseOrder()).toList()) {
              Files.deleteIfExists(p);
            }
          }
        }
      }
    }
  }

  private static void linkLatest(Path dir) throws IOException {
    Path latest = dir.getParent().resolve("latest");
    Files.deleteIfExists(latest);
    try {
      Files.createSymbolicLink(latest, dir.getFileName());
    } catch (UnsupportedOperationException | IOException noLinks) {
      Files.writeString(latest, dir.getFileName().toString() + "\n");
    }
  }
}
