package io.decree.jepsen.report;

import io.decree.jepsen.history.Op;
import java.awt.BasicStroke;
import java.awt.Color;
import java.io.IOException;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.TreeMap;
import org.jfree.chart.ChartFactory;
import org.jfree.chart.ChartUtils;
import org.jfree.chart.JFreeChart;
import org.jfree.chart.axis.LogAxis;
import org.jfree.chart.plot.IntervalMarker;
import org.jfree.chart.plot.PlotOrientation;
import org.jfree.chart.plot.XYPlot;
import org.jfree.chart.renderer.xy.XYLineAndShapeRenderer;
import org.jfree.chart.ui.Layer;
import org.jfree.chart.ui.RectangleAnchor;
import org.jfree.chart.ui.TextAnchor;
import org.jfree.data.xy.XYSeries;
import org.jfree.data.xy.XYSeriesCollection;

/** latency.png and throughput.png, with each fault's period shaded. Headless. */
final class Plots {
  private static final Color OK = new Color(0x2e7d32);
  private static final Color FAIL = new Color(0xc62828);
  private static final Color INFO = new Color(0xef6c00);

  private Plots() {}

  static void write(List<Op> history, Path dir) throws IOException {
    System.setProperty("java.awt.headless", "true");
    Map<String, XYSeries> latency = series();
    Map<String, Long> invokedAt = new HashMap<>();
    Map<String, TreeMap<Long, Integer>> perSecond = new LinkedHashMap<>();
    for (String t : List.of(Op.OK, Op.FAIL, Op.INFO)) {
      perSecond.put(t, new TreeMap<>());
    }
    long last = 0;
    for (Op op : history) {
      last = Math.max(last, op.timeNanos());
      if (!op.isClient() || op.process().equals("final")) {
        continue;
      }
      if (op.type().equals(Op.INVOKE)) {
        invokedAt.put(op.process(), op.timeNanos());
      } else {
        Long start = invokedAt.remove(op.process());
        if (start != null) {
          double ms = Math.max(0.1, (op.timeNanos() - start) / 1e6);
          latency.get(op.type()).add(start / 1e9, ms);
        }
        perSecond.get(op.type()).merge(op.timeNanos() / 1_000_000_000L, 1, Integer::sum);
      }
    }
    Map<String, XYSeries> throughput = series();
    long seconds = last / 1_000_000_000L;
    for (var e : perSecond.entrySet()) {
      for (long s = 0; s <= seconds; s++) {
        throughput.get(e.getKey()).add(s + 0.5, e.getValue().getOrDefault(s, 0));
      }
    }
    JFreeChart lat =
        chart("Latency of client operations (by invoke time)", "latency (ms)", latency, true);
    ((XYPlot) lat.getPlot()).setRangeAxis(new LogAxis("latency (ms, log)"));
    shade(lat, history);
    ChartUtils.saveChartAsPNG(dir.resolve("latency.png").toFile(), lat, 1200, 500);
    JFreeChart thr = chart("Throughput (completions per second)", "ops/s", throughput, false);
    shade(thr, history);
    ChartUtils.saveChartAsPNG(dir.resolve("throughput.png").toFile(), thr, 1200, 500);
  }

  private static Map<String, XYSeries> series() {
    Map<String, XYSeries> out = new LinkedHashMap<>();
    out.put(Op.OK, new XYSeries("ok", false, true));
    out.put(Op.FAIL, new XYSeries("fail", false, true));
    out.put(Op.INFO, new XYSeries("info", false, true));
    return out;
  }

  private static JFreeChart chart(
      String title, String yLabel, Map<String, XYSeries> series, boolean points) {
    XYSeriesCollection data = new XYSeriesCollection();
    series.values().forEach(data::addSeries);
    JFreeChart chart =
        ChartFactory.createXYLineChart(
            title, "time (s)", yLabel, data, PlotOrientation.VERTICAL, true, false, false);
    XYPlot plot = (XYPlot) chart.getPlot();
    plot.setBackgroundPaint(Color.WHITE);
    plot.setDomainGridlinePaint(Color.LIGHT_GRAY);
    plot.setRangeGridlinePaint(Color.LIGHT_GRAY);
    XYLineAndShapeRenderer renderer = new XYLineAndShapeRenderer(!points, points);
    Color[] colors = {OK, FAIL, INFO};
    for (int i = 0; i < colors.length; i++) {
      renderer.setSeriesPaint(i, colors[i]);
      renderer.setSeriesShape(i, new java.awt.geom.Ellipse2D.Double(-1.5, -1.5, 3, 3));
      renderer.setSeriesStroke(i, new BasicStroke(1.2f));
    }
    plot.setRenderer(renderer);
    return chart;
  }

  /** One shaded band per fault, from its start to its stop, labelled with its kind. */
  private static void shade(JFreeChart chart, List<Op> history) {
    XYPlot plot = (XYPlot) chart.getPlot();
    Map<String, Op> open = new HashMap<>();
    long end = history.isEmpty() ? 0 : history.get(history.size() - 1).timeNanos();
    for (Op op : history) {
      boolean fault = op.process().equals("nemesis") || op.process().equals("harness");
      if (!fault || !op.value().has("id")) {
        continue;
      }
      String id = op.value().get("id").getAsString();
      if (op.type().equals(Op.START)) {
        open.put(id, op);
      } else if (op.type().equals(Op.STOP) && open.containsKey(id)) {
        band(plot, open.remove(id), op.timeNanos());
      }
    }
    open.values().forEach(o -> band(plot, o, end));
  }

  private static void band(XYPlot plot, Op start, long stopNanos) {
    Color color =
        switch (start.f()) {
          case "kill" -> new Color(255, 0, 0, 40);
          case "majority" -> new Color(120, 0, 0, 60);
          case "pause" -> new Color(128, 0, 255, 40);
          case "partition" -> new Color(0, 90, 255, 40);
          case "lost-replies" -> new Color(255, 160, 0, 50);
          default -> new Color(120, 120, 120, 40);
        };
    IntervalMarker marker = new IntervalMarker(start.timeSeconds(), stopNanos / 1e9, color);
    String label = start.f();
    if (start.value().has("node")) {
      label += " " + start.value().get("node").getAsString();
    }
    marker.setLabel(label);
    marker.setLabelAnchor(RectangleAnchor.TOP_LEFT);
    marker.setLabelTextAnchor(TextAnchor.TOP_LEFT);
    marker.setLabelFont(new java.awt.Font("SansSerif", java.awt.Font.PLAIN, 9));
    plot.addDomainMarker(marker, Layer.BACKGROUND);
  }
}
