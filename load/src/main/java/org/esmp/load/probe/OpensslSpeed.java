package org.esmp.load.probe;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One core's Ed25519 speed by {@code openssl speed -seconds S ed25519}: the yardstick each
 * throughput is divided by, since every message the server accepts costs one verification. Run
 * before the load, in the same session, so that the ratio carries the machine's state at the time.
 */
public final class OpensslSpeed {

  /** The result line: "253 bits EdDSA (Ed25519)   0.0001s   0.0002s  12841.1   6055.4". */
  private static final Pattern ED25519 =
      Pattern.compile("\\(Ed25519\\)\\s+[\\d.]+s\\s+[\\d.]+s\\s+([\\d.]+)\\s+([\\d.]+)\\s*$", Pattern.MULTILINE);
  private static final Pattern VERSION = Pattern.compile("^version:\\s*(\\S+)", Pattern.MULTILINE);

  /**
   * The figures, or why there are none.
   *
   * @param verifyPerSecond verifications a second on one core; 0 when unavailable
   * @param error why unavailable, or null
   */
  public record Result(double signPerSecond, double verifyPerSecond, String version, int seconds, String error) {

    public boolean available() {
      return error == null;
    }

    /** {@code perSecond} as a multiple of one core's verify rate; NaN without a rate. */
    public double ratio(double perSecond) {
      return available() ? perSecond / verifyPerSecond : Double.NaN;
    }

    /** A per-message cost in µs as a multiple of one verification's time (1/rate). */
    public double costRatio(double micros) {
      return available() ? micros * verifyPerSecond / 1e6 : Double.NaN;
    }

    static Result unavailable(String why) {
      return new Result(0, 0, null, 0, why);
    }
  }

  private OpensslSpeed() {}

  /** Runs {@code openssl speed}; {@code seconds} of 0 skips it. */
  public static Result measure(int seconds) {
    if (seconds <= 0) {
      return Result.unavailable("skipped (--openssl-seconds 0)");
    }
    Process process;
    try {
      process = new ProcessBuilder(List.of("openssl", "speed", "-seconds", Integer.toString(seconds), "ed25519"))
          .redirectError(ProcessBuilder.Redirect.DISCARD).start();
    } catch (IOException e) {
      return Result.unavailable("openssl not found (" + e.getMessage() + "): no ratios to one core's verify rate");
    }
    try {
      String out = new String(process.getInputStream().readAllBytes(), UTF_8);
      if (!process.waitFor(seconds * 4L + 30, TimeUnit.SECONDS)) {
        process.destroyForcibly();
        return Result.unavailable("openssl speed did not finish");
      }
      return parse(out, seconds);
    } catch (IOException e) {
      return Result.unavailable("openssl speed failed: " + e.getMessage());
    } catch (InterruptedException e) {
      process.destroyForcibly();
      Thread.currentThread().interrupt();
      return Result.unavailable("interrupted");
    }
  }

  /** The figures in {@code openssl speed ... ed25519} output (its last lines). */
  public static Result parse(String output, int seconds) {
    Matcher line = ED25519.matcher(output);
    Result found = Result.unavailable("no Ed25519 line in the output of openssl speed");
    while (line.find()) {
      Matcher version = VERSION.matcher(output);
      found = new Result(Double.parseDouble(line.group(1)), Double.parseDouble(line.group(2)),
          version.find() ? version.group(1) : null, seconds, null);
    }
    return found;
  }
}
