package org.esmp.load.report;

import java.io.PrintWriter;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import org.esmp.load.net.Hints;
import org.esmp.load.probe.OpensslSpeed;

/**
 * The report as text for a person: a header (server, machine, openssl), then per scenario a table
 * of metric, value, unit and the ratio to one core's Ed25519 verify rate, with errors and notes.
 */
public final class TableWriter {

  private static final String ROW = "  %-50s %14s  %-13s %s%n";

  private final PrintWriter out;

  public TableWriter(PrintWriter out) {
    this.out = out;
  }

  public void write(Report report) {
    out.printf("esmp-load %s, %s%n", report.toolVersion(), report.timestamp());
    out.printf("server   %s%n", describe(report.server()));
    out.printf("machine  %d cores, %s, %s, %s, load %s%n", report.machine().cores(),
        report.machine().memoryKib() < 0 ? "memory unknown"
            : String.format(Locale.ROOT, "%.1f GiB", report.machine().memoryKib() / 1048576.0),
        report.machine().jdk(), report.machine().os(), report.machine().loadAverage());
    out.printf("openssl  %s%n", yardstick(report.openssl()));
    for (ScenarioResult scenario : report.scenarios()) {
      out.println();
      write(scenario, report.openssl());
    }
    out.flush();
  }

  private void write(ScenarioResult scenario, OpensslSpeed.Result openssl) {
    out.printf("== %s: %s%n", scenario.name(), scenario.setup());
    out.printf("   openssl ed25519 verify, one core: %s%n",
        openssl.available() ? number(openssl.verifyPerSecond(), 0) + "/s" : "n/a (" + openssl.error() + ")");
    if (!scenario.metrics().isEmpty()) {
      out.printf(ROW, "metric", "value", "unit", openssl.available() ? "× openssl verify" : "");
    }
    for (Metric metric : scenario.metrics()) {
      String value = number(metric.value(), decimals(metric.unit()));
      out.printf(ROW, metric.label(), value, metric.unit(), ratio(metric, openssl));
    }
    if (!scenario.errors().isEmpty()) {
      List<String> errors = new ArrayList<>();
      scenario.errors().forEach((code, n) -> errors.add(code + " × " + n));
      out.printf("   ERRORS from the server: %s%n", String.join(", ", errors));
      if (scenario.errors().containsKey("rate_limited")) {
        out.printf("   %s%n", Hints.forRateLimited());
      }
    }
    for (String note : scenario.notes()) {
      out.printf("   note: %s%n", note);
    }
    if (scenario.failure() != null) {
      out.printf("   FAILED: %s%n", scenario.failure());
    }
  }

  private static String ratio(Metric metric, OpensslSpeed.Result openssl) {
    double r = switch (metric.ratio()) {
      case THROUGHPUT -> openssl.ratio(metric.value());
      case COST -> openssl.costRatio(metric.value());
      case NONE -> Double.NaN;
    };
    return Double.isNaN(r) ? "" : String.format(Locale.ROOT, "%.3f", r);
  }

  static String yardstick(OpensslSpeed.Result openssl) {
    if (!openssl.available()) {
      return "n/a: " + openssl.error();
    }
    return String.format(Locale.ROOT,
        "%s ed25519, one core: %s verify/s, %s sign/s (openssl speed -seconds %d ed25519)",
        openssl.version() == null ? "" : openssl.version(), number(openssl.verifyPerSecond(), 0),
        number(openssl.signPerSecond(), 0), openssl.seconds()).trim();
  }

  private static String describe(Map<String, Object> server) {
    List<String> parts = new ArrayList<>();
    server.forEach((key, value) -> parts.add(key.replace('_', ' ') + " " + value));
    return String.join(", ", parts);
  }

  static int decimals(String unit) {
    return switch (unit) {
      case "ms", "s", "×", "cores" -> 2;
      case "µs/msg", "µs/post", "µs/delivery", "KiB", "MiB", "KiB/post", "B/member" -> 1;
      default -> 0;
    };
  }

  static String number(double value, int decimals) {
    if (Double.isNaN(value)) {
      return "n/a";
    }
    return String.format(Locale.ROOT, "%,." + decimals + "f", value);
  }
}
