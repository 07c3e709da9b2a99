package io.decree.jepsen.history;

import com.google.gson.JsonObject;

/**
 * One line of the history. Client operations are {@code invoke} followed by {@code ok}, {@code
 * fail} (it definitely did not happen) or {@code info} (indeterminate: it may or may not have
 * happened, e.g. an UNKNOWN answer or a timeout), all with the same {@code process}. The nemesis
 * writes {@code start}/{@code stop} lines, the monitor {@code observe} lines.
 *
 * @param index position in the history
 * @param process client worker number, or "nemesis", "monitor", "harness"
 * @param type invoke, ok, fail, info, start, stop, observe
 * @param f what: transfer, read, write, kill, pause, partition, ...
 * @param value details (JSON object); never null
 * @param timeNanos since the start of the run
 * @param tx transaction id once known, else null
 * @param error why it failed or is indeterminate, else null
 */
public record Op(
    long index,
    String process,
    String type,
    String f,
    JsonObject value,
    long timeNanos,
    String tx,
    String error) {

  public static final String INVOKE = "invoke";
  public static final String OK = "ok";
  public static final String FAIL = "fail";
  public static final String INFO = "info";
  public static final String START = "start";
  public static final String STOP = "stop";
  public static final String OBSERVE = "observe";

  public Op {
    value = value == null ? new JsonObject() : value;
  }

  public boolean isClient() {
    return type.equals(INVOKE) || isCompletion();
  }

  public boolean isCompletion() {
    return type.equals(OK) || type.equals(FAIL) || type.equals(INFO);
  }

  public double timeSeconds() {
    return timeNanos / 1e9;
  }
}
