package io.decree.jepsen.report;

import io.decree.jepsen.JepsenRun;
import io.decree.jepsen.RunConfig;
import io.decree.jepsen.check.Verdict;
import io.decree.jepsen.history.Op;
import java.nio.file.Path;
import java.util.List;

/** index.html: a static page a person can open from the run's folder. */
final class Html {
  private Html() {}

  static String page(
      JepsenRun.Result result, RunConfig config, List<Op> history, List<Path> logs, String git) {
    StringBuilder h = new StringBuilder();
    h.append("<!doctype html><html><head><meta charset=\"utf-8\"><title>Decree Jepsen-style run ")
        .append(esc(result.dir().getFileName().toString()))
        .append("</title><style>")
        .append("body{font-family:sans-serif;margin:2em;max-width:1300px}")
        .append("td,th{border:1px solid #ccc;padding:4px 8px;vertical-align:top}")
        .append("table{border-collapse:collapse;margin-bottom:1.5em}")
        .append(
            ".VALID{background:#c8e6c9}.INVALID{background:#ffcdd2}.UNKNOWN{background:#fff9c4}")
        .append("pre{white-space:pre-wrap;font-size:12px;margin:0}")
        .append("</style></head><body>");
    h.append("<h1>Decree Jepsen-style run: <span class=\"")
        .append(result.validity())
        .append("\">")
        .append(result.validity())
        .append("</span></h1>");
    h.append("<table>");
    row(h, "workload", config.workload());
    row(h, "nemeses", config.nemeses().isEmpty() ? "none" : String.join(", ", config.nemeses()));
    row(
        h,
        "time",
        config.time().toSeconds()
            + " s, recovery window up to "
            + config.recovery().toSeconds()
            + " s");
    row(h, "seed", Long.toString(config.seed()));
    row(h, "git revision", git);
    row(
        h,
        "nodes",
        config.coordinators()
            + " coordinator(s), "
            + config.participants()
            + " participants, "
            + config.clients()
            + " clients");
    row(
        h,
        "fault switches",
        config.jvmOptions().isEmpty() ? "none" : config.jvmOptions().toString());
    row(h, "operations", result.counts().toString());
    row(h, "faults applied", result.faults().toString());
    h.append("</table>");

    h.append("<h2>Checkers</h2><table><tr><th>checker</th><th>verdict</th><th>summary</th>")
        .append("<th>offending (first 20)</th></tr>");
    for (Verdict v : result.verdicts()) {
      h.append("<tr><td>")
          .append(esc(v.checker()))
          .append("</td><td class=\"")
          .append(v.validity())
          .append("\">")
          .append(v.validity())
          .append("</td><td>")
          .append(esc(v.summary()))
          .append("</td><td><pre>");
      v.offending().stream().limit(20).forEach(o -> h.append(esc(o)).append('\n'));
      h.append("</pre></td></tr>");
    }
    h.append("</table>");

    h.append("<h2>Plots</h2><p>Shaded: fault periods (red kill, purple pause, blue partition,")
        .append(" orange lost replies, grey the final heal and restart).</p>")
        .append(
            "<img src=\"latency.png\" width=\"1200\"><br><img src=\"throughput.png\" width=\"1200\">");

    h.append(
        "<h2>Faults</h2><table><tr><th>time (s)</th><th></th><th>fault</th><th>details</th></tr>");
    for (Op op : history) {
      if (op.process().equals("nemesis") || op.process().equals("harness")) {
        h.append("<tr><td>")
            .append(String.format("%.2f", op.timeSeconds()))
            .append("</td><td>")
            .append(esc(op.type()))
            .append("</td><td>")
            .append(esc(op.f()))
            .append("</td><td>")
            .append(esc(op.value().toString()))
            .append(op.error() == null ? "" : " " + esc(op.error()))
            .append("</td></tr>");
      }
    }
    h.append("</table>");

    h.append("<h2>Files</h2><ul><li><a href=\"history.jsonl\">history.jsonl</a> (one line per")
        .append(" invoke / ok / fail / info, nemesis start / stop, monitor observation)</li>")
        .append("<li><a href=\"results.json\">results.json</a></li>");
    for (Path log : logs) {
      String rel =
          result
              .dir()
              .toAbsolutePath()
              .normalize()
              .relativize(log.toAbsolutePath().normalize())
              .toString();
      h.append("<li><a href=\"")
          .append(esc(rel))
          .append("\">")
          .append(esc(rel))
          .append("</a></li>");
    }
    h.append("</ul></body></html>\n");
    return h.toString();
  }

  private static void row(StringBuilder h, String k, String v) {
    h.append("<tr><th>").append(esc(k)).append("</th><td>").append(esc(v)).append("</td></tr>");
  }

  static String esc(String s) {
    return s.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("\"", "&quot;");
  }
}
