package org.esmp.server.metrics;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;

import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.simple.SimpleMeterRegistry;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import org.esmp.api.ErrorCode;
import org.esmp.api.Reply;
import org.esmp.api.federation.Relay;
import org.esmp.api.json.JsonObject;
import org.junit.jupiter.api.Test;

class ServerMetricsTest {

  private final MeterRegistry registry = new SimpleMeterRegistry();
  private final ServerMetrics metrics = ServerMetrics.in(registry, Set.of("text", "auth")::contains);

  private double messages(String type, String outcome) {
    var counter = registry.find("esmp.messages").tags("type", type, "outcome", outcome).counter();
    return counter == null ? 0 : counter.count();
  }

  private double errors(String code) {
    return registry.get("esmp.errors").tag("code", code).counter().count();
  }

  @Test
  void anAnswerCountsItsMessageByTypeAndOutcome() {
    metrics.answered("text", Reply.ack());
    metrics.answered("text", Reply.ack(JsonObject.builder().put("duplicate", false).build()));
    metrics.answered("text", Reply.ack(JsonObject.builder().put("duplicate", true).build()));
    metrics.answered("text", Reply.error(ErrorCode.FORBIDDEN, "no"));
    metrics.answered("text", Reply.error(ErrorCode.INTERNAL, "failed"));
    metrics.answered("auth", Reply.result("synced", JsonObject.empty()));
    metrics.answered(null, Reply.error(ErrorCode.BAD_SIGNATURE, "forged"));

    assertEquals(2, messages("text", "accepted"));
    assertEquals(1, messages("text", "duplicate"));
    assertEquals(1, messages("text", "rejected"));
    assertEquals(1, messages("text", "failed"));
    assertEquals(1, messages("auth", "accepted"), "an answer that is not an error counts as accepted");
    assertEquals(1, messages("unverified", "rejected"));
    assertEquals(1, errors("forbidden"));
    assertEquals(1, errors("internal"));
    assertEquals(1, errors("bad_signature"));
    assertEquals(0, errors("rate_limited"), "every code has its counter from the start");
  }

  @Test
  void typesNoOneDeclaresShareOneLabel() {
    for (int i = 0; i < 1000; i++) {
      metrics.answered("spam" + i, Reply.error(ErrorCode.UNSUPPORTED_TYPE, "no"));
    }
    assertEquals(1000, messages("other", "rejected"));
    assertNull(registry.find("esmp.messages").tag("type", "spam1").counter());
    long typeLabels = registry.find("esmp.messages").counters().stream().map(c -> c.getId().getTag("type"))
        .distinct().count();
    assertEquals(2, typeLabels, "only 'other' and 'unverified' exist until a declared type is answered");
  }

  @Test
  void refusalsAndTimingsAreCounted() {
    metrics.rateLimited(ServerMetrics.RateLimit.ADDRESS_MESSAGES);
    metrics.rateLimited(ServerMetrics.RateLimit.CONNECTIONS_PER_IP);
    metrics.verified(TimeUnit.MICROSECONDS.toNanos(80));
    metrics.committed(TimeUnit.MILLISECONDS.toNanos(3));
    assertEquals(1, registry.get("esmp.rate.limited").tag("limit", "address_messages").counter().count());
    assertEquals(1, registry.get("esmp.rate.limited").tag("limit", "max_connections_per_ip").counter().count());
    assertEquals(0, registry.get("esmp.rate.limited").tag("limit", "ip_frames").counter().count());
    assertEquals(1, registry.get("esmp.verify").timer().count());
    assertEquals(3, registry.get("esmp.commit").timer().totalTime(TimeUnit.MILLISECONDS), 0.001);
  }

  @Test
  void pluginCallsAreMeteredByMethodAndOutcome() {
    ServerMetrics.PluginMeters plugin = metrics.plugin("direct-delivery");
    assertSame(plugin, metrics.plugin("direct-delivery"), "a reloaded plugin keeps its meters");
    plugin.method("deliver").record(ServerMetrics.CallOutcome.OK, 1_000_000);
    plugin.method("deliver").record(ServerMetrics.CallOutcome.TIMEOUT, 5_000_000_000L);
    plugin.method("message listener").record(ServerMetrics.CallOutcome.FAILED, 1_000);
    plugin.method("close of Something").record(ServerMetrics.CallOutcome.OK, 1_000);
    plugin.listenerDropped();

    assertEquals(1, registry.get("esmp.plugin.calls")
        .tags("plugin", "direct-delivery", "method", "deliver", "outcome", "ok").counter().count());
    assertEquals(1, registry.get("esmp.plugin.calls")
        .tags("plugin", "direct-delivery", "method", "deliver", "outcome", "timeout").counter().count());
    assertEquals(1, registry.get("esmp.plugin.calls")
        .tags("plugin", "direct-delivery", "method", "listener", "outcome", "failed").counter().count());
    assertEquals(1, registry.get("esmp.plugin.calls")
        .tags("plugin", "direct-delivery", "method", "other", "outcome", "ok").counter().count());
    assertEquals(2, registry.get("esmp.plugin.call").tags("plugin", "direct-delivery", "method", "deliver")
        .timer().count());
    assertNull(registry.find("esmp.plugin.call").tags("method", "handle").timer(), "no meters for methods not called");
    assertEquals(1, registry.get("esmp.plugin.listener.dropped").tag("plugin", "direct-delivery").counter().count());
  }

  @Test
  void theOutboxOfFederationIsZero() {
    assertEquals(0, registry.get("esmp.federation.outbox.depth").gauge().value());
  }

  @Test
  void theMetricsOfAServerWithoutAMetricsPortKeepNothing() {
    ServerMetrics off = ServerMetrics.off();
    for (int i = 0; i < 100; i++) {
      off.answered("type" + i, Reply.ack());
    }
    assertTrue(off.registry().find("esmp.messages").counters().stream()
        .allMatch(c -> c.getId().getTag("type").equals("other") || c.getId().getTag("type").equals("unverified")),
        "nothing is kept per type a client names");
    assertTrue(off.registry().getMeters().stream().allMatch(m -> m.measure().iterator().next().getValue() == 0
        || m.getId().getName().equals("esmp.federation.outbox.depth")), "no-op meters");
    assertEquals("", off.scrape());
  }

  @Test
  void outboxesAreGaugedInTotalAndPerPeerOnceSeen() {
    Map<String, Relay.OutboxStatus> status = new ConcurrentHashMap<>();
    metrics.outboxes(() -> status);
    assertEquals(0, registry.get("esmp.federation.outbox.depth").gauge().value());

    status.put("b.example", new Relay.OutboxStatus(7, 5_000, ""));
    status.put("c.example", new Relay.OutboxStatus(3, 0, "refused"));
    assertEquals(10, registry.get("esmp.federation.outbox.depth").gauge().value());
    assertNull(registry.find("esmp.federation.peer.outbox.depth").gauge(), "no per-peer gauge before a refresh");

    metrics.refreshPeers();
    assertEquals(7, registry.get("esmp.federation.peer.outbox.depth").tag("peer", "b.example").gauge().value());
    assertEquals(5, registry.get("esmp.federation.peer.last.success.seconds").tag("peer", "b.example").gauge().value());
    status.put("b.example", new Relay.OutboxStatus(0, 9_000, ""));
    assertEquals(0, registry.get("esmp.federation.peer.outbox.depth").tag("peer", "b.example").gauge().value(),
        "read when scraped");
    status.remove("c.example");
    assertEquals(0, registry.get("esmp.federation.peer.outbox.depth").tag("peer", "c.example").gauge().value(),
        "a peer gone from the outboxes reads 0");
  }
}
