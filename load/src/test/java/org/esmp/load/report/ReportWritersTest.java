package org.esmp.load.report;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import org.esmp.load.probe.MachineInfo;
import org.esmp.load.probe.OpensslSpeed;
import org.junit.jupiter.api.Test;

class ReportWritersTest {

  private static final OpensslSpeed.Result OPENSSL = new OpensslSpeed.Result(12_000, 8_000, "3.0.19", 3, null);
  private static final MachineInfo MACHINE = new MachineInfo(2, 24_000_000, "OpenJDK 17", "Linux", "box",
      "1.00 1.00 1.00");

  private static Report report(OpensslSpeed.Result openssl) {
    ScenarioResult direct = ScenarioResult.builder("direct").setup("8 connections")
        .add(Metric.rate("acked_per_second", "acked messages/s", 10_000, "msg/s"))
        .add(Metric.cost("server_cpu_per_message_us", "server CPU per message", 250, "µs/msg"))
        .add(Metric.of("ack_latency_p99_ms", "send-to-ack latency p99", 12.345, "ms"))
        .errors(Map.of("rate_limited", 3L))
        .build();
    ScenarioResult idle = ScenarioResult.builder("idle").setup("20 connections")
        .failure("after 10 of 20: refused").build();
    return new Report("0.1.0", Instant.parse("2026-11-30T12:00:00Z"), Map.of("port", 15888), MACHINE, openssl,
        Map.of("pid", 42), List.of(direct, idle));
  }

  @Test
  void theTableShowsEachValueWithItsRatioToTheVerifyRate() {
    StringWriter text = new StringWriter();
    new TableWriter(new PrintWriter(text)).write(report(OPENSSL));
    String table = text.toString();

    assertTrue(table.contains("8,000 verify/s"), table);
    assertTrue(table.matches("(?s).*acked messages/s\\s+10,000\\s+msg/s\\s+1\\.250.*"), table);
    assertTrue(table.matches("(?s).*server CPU per message\\s+250\\.0\\s+µs/msg\\s+2\\.000.*"), table);
    assertTrue(table.matches("(?s).*send-to-ack latency p99\\s+12\\.35\\s+ms.*"), table);
    assertTrue(table.contains("rate_limited × 3"), table);
    assertTrue(table.contains("docs/PERFORMANCE.md"), table);
    assertTrue(table.contains("FAILED: after 10 of 20: refused"), table);
  }

  @Test
  void theJsonHoldsEveryNumberAndNullForARatioWithoutOpenssl() throws Exception {
    JsonNode withOpenssl = new ObjectMapper().readTree(JsonReport.write(report(OPENSSL)));
    JsonNode without = new ObjectMapper().readTree(JsonReport.write(report(new OpensslSpeed.Result(0, 0, null, 0,
        "absent"))));

    JsonNode acked = withOpenssl.at("/scenarios/0/metrics/acked_per_second");
    assertEquals(10_000, acked.get("value").asDouble());
    assertEquals("msg/s", acked.get("unit").asText());
    assertEquals(1.25, acked.get("ratio_to_openssl_verify_rate").asDouble(), 1e-9);
    JsonNode cpu = withOpenssl.at("/scenarios/0/metrics/server_cpu_per_message_us");
    assertEquals(2.0, cpu.get("ratio_to_openssl_verify_time").asDouble(), 1e-9);
    assertEquals(3, withOpenssl.at("/scenarios/0/errors/rate_limited").asInt());
    assertEquals(8_000, withOpenssl.at("/openssl/verify_per_second_one_core").asDouble());
    assertEquals(2, withOpenssl.at("/machine/cores").asInt());
    assertEquals(false, withOpenssl.get("complete").asBoolean());
    assertTrue(without.at("/scenarios/0/metrics/acked_per_second/ratio_to_openssl_verify_rate").isNull());
    assertEquals("absent", without.at("/openssl/error").asText());
  }
}
