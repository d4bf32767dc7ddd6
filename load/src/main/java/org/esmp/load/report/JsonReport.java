package org.esmp.load.report;

import com.fasterxml.jackson.core.JsonProcessingException;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import org.esmp.load.probe.OpensslSpeed;

/**
 * The report as one JSON document, every number of the table and more: parameters, machine,
 * openssl, server, and per scenario each metric with its unit and ratio to the verify rate. A
 * number that does not exist (a ratio without openssl) is {@code null}.
 */
public final class JsonReport {

  private static final ObjectMapper JSON = new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT);

  private JsonReport() {}

  public static String write(Report report) {
    ObjectNode root = JSON.createObjectNode();
    root.put("tool", "esmp-load");
    root.put("version", report.toolVersion());
    root.put("timestamp", report.timestamp().toString());
    root.set("parameters", JSON.valueToTree(report.parameters()));
    root.set("machine", JSON.valueToTree(report.machine().asMap()));
    root.set("openssl", openssl(report.openssl()));
    root.set("server", JSON.valueToTree(report.server()));
    ArrayNode scenarios = root.putArray("scenarios");
    for (ScenarioResult scenario : report.scenarios()) {
      ObjectNode s = scenarios.addObject();
      s.put("name", scenario.name());
      s.put("setup", scenario.setup());
      ObjectNode metrics = s.putObject("metrics");
      for (Metric metric : scenario.metrics()) {
        ObjectNode m = metrics.putObject(metric.key());
        number(m, "value", metric.value());
        m.put("unit", metric.unit());
        m.put("label", metric.label());
        switch (metric.ratio()) {
          case THROUGHPUT -> number(m, "ratio_to_openssl_verify_rate", report.openssl().ratio(metric.value()));
          case COST -> number(m, "ratio_to_openssl_verify_time", report.openssl().costRatio(metric.value()));
          case NONE -> { }
        }
      }
      s.set("errors", JSON.valueToTree(scenario.errors()));
      s.set("notes", JSON.valueToTree(scenario.notes()));
      if (scenario.failure() == null) {
        s.putNull("failure");
      } else {
        s.put("failure", scenario.failure());
      }
    }
    root.put("complete", report.complete());
    try {
      return JSON.writeValueAsString(root);
    } catch (JsonProcessingException e) {
      throw new IllegalStateException("a tree of plain values always serializes", e);
    }
  }

  private static ObjectNode openssl(OpensslSpeed.Result openssl) {
    ObjectNode node = JSON.createObjectNode();
    node.put("available", openssl.available());
    if (openssl.available()) {
      node.put("command", "openssl speed -seconds " + openssl.seconds() + " ed25519");
      node.put("version", openssl.version());
      node.put("verify_per_second_one_core", openssl.verifyPerSecond());
      node.put("sign_per_second_one_core", openssl.signPerSecond());
    } else {
      node.put("error", openssl.error());
    }
    return node;
  }

  private static void number(ObjectNode node, String key, double value) {
    if (Double.isNaN(value) || Double.isInfinite(value)) {
      node.putNull(key);
    } else {
      node.put(key, value);
    }
  }
}
