package org.esmp.server.metrics;

import io.micrometer.core.instrument.Counter;
import io.micrometer.core.instrument.Gauge;
import io.micrometer.core.instrument.MeterRegistry;
import io.micrometer.core.instrument.Timer;
import io.micrometer.core.instrument.binder.jvm.ClassLoaderMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmGcMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmMemoryMetrics;
import io.micrometer.core.instrument.binder.jvm.JvmThreadMetrics;
import io.micrometer.core.instrument.binder.system.ProcessorMetrics;
import io.micrometer.core.instrument.binder.system.UptimeMetrics;
import io.micrometer.core.instrument.composite.CompositeMeterRegistry;
import io.micrometer.prometheusmetrics.PrometheusConfig;
import io.micrometer.prometheusmetrics.PrometheusMeterRegistry;
import java.time.Duration;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.function.Supplier;
import org.esmp.api.ErrorCode;
import org.esmp.api.Reply;
import org.esmp.api.federation.Relay;
import org.esmp.api.json.JsonBoolean;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;

/**
 * The server's meters, in one {@link MeterRegistry} made when {@link org.esmp.server.EsmpServer}
 * starts and passed down by constructor to the parts that record. Every name is listed, with what it counts, in
 * docs/OPERATIONS.md ("Metrics").
 *
 * <p>Recording is cheap by construction: every meter a message can touch is resolved once (per
 * type, per error code, per plugin method) and kept; a message costs a lookup of its type in a
 * map and an increment or two, never a string built or a meter looked up by its tags. The labels
 * are bounded: a message type is its own label only when the server or a running plugin declares
 * it ({@link #OTHER_TYPE} else), error codes are the protocol's, plugins are the ones loaded.
 *
 * <p>With the metrics port off ({@link #off()}) the meters are Micrometer's no-ops: nothing is
 * kept and nothing is exported. Thread-safe.
 *
 * @see org.esmp.server.EsmpServer
 */
public final class ServerMetrics implements AutoCloseable {

  /** The label of messages of a type that neither the server nor a running plugin declares. */
  public static final String OTHER_TYPE = "other";
  /** The label of frames answered before a message could be read from them (bad JSON, bad signature, IP rate). */
  public static final String UNVERIFIED_TYPE = "unverified";

  /** Buckets of the verification latency: parsing, canonicalizing and one Ed25519 check. */
  private static final Duration[] VERIFY_BUCKETS = millis(0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 25, 100);
  /** Buckets of the commit latency: queued, written and forced to disk by the storage. */
  private static final Duration[] COMMIT_BUCKETS = millis(1, 2.5, 5, 10, 25, 50, 100, 250, 500, 1000, 2500, 5000);
  /** Buckets of plugin calls: few, as there is a histogram per plugin and method. */
  private static final Duration[] PLUGIN_BUCKETS = millis(1, 10, 100, 1000, 5000);

  private final MeterRegistry registry;
  /** Set when the registry is Prometheus's: what {@link #scrape} answers. */
  private final PrometheusMeterRegistry prometheus;
  private final JvmGcMetrics gc;
  /** Whether a type has a label of its own: the server's types and those of running plugins. */
  private final Predicate<String> knownTypes;
  private final Map<String, Outcomes> byType = new ConcurrentHashMap<>();
  private final Outcomes otherType;
  private final Outcomes unverified;
  /** The error counters by wire code: built once, read-only after. */
  private final Map<String, Counter> errorsByCode;
  private final Map<RateLimit, Counter> rateLimited = new EnumMap<>(RateLimit.class);
  private final Map<Transport, Counter> transports = new EnumMap<>(Transport.class);
  private final Timer verify;
  private final Timer commit;
  private final Counter accepted;
  private final Counter closed;
  private final Counter outputCloses;
  private final Map<String, PluginMeters> plugins = new ConcurrentHashMap<>();

  /** The limits whose refusals {@code esmp_rate_limited_total} counts, by label. */
  /** How a connection's transport turned out (ESMP/1 section 1). */
  public enum Transport {
    /** A TLS handshake completed. */
    TLS("tls"),
    /** A TLS handshake failed (the client did not trust the certificate, an old version, a timeout...). */
    TLS_FAILED("tls_failed"),
    /** A plaintext connection served. */
    PLAINTEXT("plaintext"),
    /** A plaintext connection refused because the server requires TLS. */
    PLAINTEXT_REFUSED("plaintext_refused");

    private final String label;

    Transport(String label) {
      this.label = label;
    }

    /** The label value. */
    public String label() {
      return label;
    }
  }

  public enum RateLimit {
    /** {@code ip_frames_*} and {@code ip_bytes_*}: frames refused before they were verified. */
    IP_FRAMES("ip_frames"),
    /** {@code address_messages_*}. */
    ADDRESS_MESSAGES("address_messages"),
    /** {@code registrations_per_ip_per_hour}. */
    REGISTRATIONS("registrations_per_ip"),
    /** {@code key_changes_per_address_per_hour}. */
    KEY_CHANGES("key_changes_per_address"),
    /** {@code max_connections_per_address}: an {@code auth} refused. */
    CONNECTIONS_PER_ADDRESS("max_connections_per_address"),
    /** {@code max_connections}: a connection refused. */
    CONNECTIONS("max_connections"),
    /** {@code max_connections_per_ip}: a connection refused. */
    CONNECTIONS_PER_IP("max_connections_per_ip");

    private final String label;

    RateLimit(String label) {
      this.label = label;
    }

    /** The value of the {@code limit} label. */
    public String label() {
      return label;
    }
  }

  /**
   * Meters that export nothing: the server without a metrics port, and tests of single parts. Every
   * type is {@link #OTHER_TYPE}: nothing is kept per type a client names.
   */
  public static ServerMetrics off() {
    return new ServerMetrics(new CompositeMeterRegistry(), null, type -> false);
  }

  /**
   * Meters in a Prometheus registry, with the JVM's (memory, GC, threads, class loading, CPU,
   * uptime).
   *
   * @param knownTypes whether a message type gets a label of its own (declared by the server or a
   *     running plugin); read on every answer, so cheap
   */
  public static ServerMetrics prometheus(Predicate<String> knownTypes) {
    PrometheusMeterRegistry registry = new PrometheusMeterRegistry(PrometheusConfig.DEFAULT);
    return new ServerMetrics(registry, registry, knownTypes);
  }

  /**
   * Meters in {@code registry} (tests read them there), without the JVM's.
   *
   * @param knownTypes as for {@link #prometheus}
   */
  public static ServerMetrics in(MeterRegistry registry, Predicate<String> knownTypes) {
    return new ServerMetrics(registry, null, knownTypes);
  }

  /** Peers with gauges of their own, at most {@value #MAX_PEERS_METERED}. */
  private static final int MAX_PEERS_METERED = 1000;

  private volatile Supplier<Map<String, Relay.OutboxStatus>> outboxes = Map::of;
  private final Set<String> peersMetered = ConcurrentHashMap.newKeySet();

  private ServerMetrics(MeterRegistry registry, PrometheusMeterRegistry prometheus, Predicate<String> knownTypes) {
    this.registry = registry;
    this.prometheus = prometheus;
    this.knownTypes = knownTypes;
    if (prometheus != null) {
      new ClassLoaderMetrics().bindTo(registry);
      new JvmMemoryMetrics().bindTo(registry);
      new JvmThreadMetrics().bindTo(registry);
      new ProcessorMetrics().bindTo(registry);
      new UptimeMetrics().bindTo(registry);
      gc = new JvmGcMetrics();
      gc.bindTo(registry);
    } else {
      gc = null;
    }
    otherType = new Outcomes(registry, OTHER_TYPE);
    unverified = new Outcomes(registry, UNVERIFIED_TYPE);
    Map<String, Counter> errors = new HashMap<>();
    for (ErrorCode code : ErrorCode.values()) {
      errors.put(code.wire(), Counter.builder("esmp.errors").tag("code", code.wire())
          .description("Error answers sent, by ESMP error code").register(registry));
    }
    errorsByCode = Map.copyOf(errors);
    for (RateLimit limit : RateLimit.values()) {
      rateLimited.put(limit, Counter.builder("esmp.rate.limited").tag("limit", limit.label())
          .description("Frames, messages and connections refused by a rate or connection limit").register(registry));
    }
    for (Transport transport : Transport.values()) {
      transports.put(transport, Counter.builder("esmp.connections.transport").tag("transport", transport.label())
          .description("Connections by how their transport turned out: TLS or plaintext, served or refused").register(registry));
    }
    verify = Timer.builder("esmp.verify").serviceLevelObjectives(VERIFY_BUCKETS)
        .description("Time to parse, canonicalize and verify the signature of one frame").register(registry);
    commit = Timer.builder("esmp.commit").serviceLevelObjectives(COMMIT_BUCKETS)
        .description("Time from handing a change to the storage until it is durable (or failed)").register(registry);
    accepted = Counter.builder("esmp.connections.accepted")
        .description("Connections accepted (not refused by a connection limit)").register(registry);
    closed = Counter.builder("esmp.connections.closed").description("Accepted connections closed").register(registry);
    outputCloses = Counter.builder("esmp.output.closes")
        .description("Connections closed for staying over their share of the output budget for the grace")
        .register(registry);
    Gauge.builder("esmp.federation.outbox.depth", () -> outboxes.get().values().stream()
            .mapToLong(Relay.OutboxStatus::depth).sum())
        .description("Messages waiting to be sent to other servers, all peers together").register(registry);
  }

  /**
   * Where the federation plugin's outboxes are read: the total {@code esmp_federation_outbox_depth},
   * and per peer {@code esmp_federation_peer_outbox_depth} and {@code
   * esmp_federation_peer_last_success_seconds} once {@link #refreshPeers} saw the peer.
   */
  public void outboxes(Supplier<Map<String, Relay.OutboxStatus>> status) {
    outboxes = status;
  }

  /** Adds the per-peer gauges of peers that appeared since the last call (from a maintenance thread). */
  public void refreshPeers() {
    for (String peer : outboxes.get().keySet()) {
      if (peersMetered.size() < MAX_PEERS_METERED && peersMetered.add(peer)) {
        Gauge.builder("esmp.federation.peer.outbox.depth", () -> status(peer).depth()).tag("peer", peer)
            .description("Messages waiting to be sent to this peer").register(registry);
        Gauge.builder("esmp.federation.peer.last.success.seconds", () -> status(peer).lastSuccessMillis() / 1000.0)
            .tag("peer", peer).description("When a relay to this peer last succeeded, Unix seconds; 0 if never")
            .register(registry);
      }
    }
  }

  private Relay.OutboxStatus status(String peer) {
    Relay.OutboxStatus status = outboxes.get().get(peer);
    return status != null ? status : new Relay.OutboxStatus(0, 0, "");
  }

  /**
   * The Prometheus text exposition of every meter; empty when the meters are not Prometheus's.
   * Runs on the metrics port's thread (it reads every gauge).
   */
  public String scrape() {
    return prometheus == null ? "" : prometheus.scrape();
  }

  /** The registry, for gauges of other parts and for tests. */
  public MeterRegistry registry() {
    return registry;
  }

  /** Counts a gauge of {@code value}, read when scraped (from the metrics port's thread). */
  public void gauge(String name, String description, Supplier<Number> value) {
    Gauge.builder(name, value).description(description).register(registry);
  }

  /** One frame's verification took {@code nanos}. */
  public void verified(long nanos) {
    verify.record(nanos, TimeUnit.NANOSECONDS);
  }

  /** One storage commit took {@code nanos}, from the call to its answer. */
  public void committed(long nanos) {
    commit.record(nanos, TimeUnit.NANOSECONDS);
  }

  /**
   * One answer sent: counts its message by type and outcome, and an error by its code.
   *
   * @param type the message's type; null when the frame was answered before a message was read
   *     from it
   */
  public void answered(String type, Reply reply) {
    Outcomes outcomes = type == null ? unverified : of(type);
    if (reply.type().equals("error")) {
      JsonValue code = reply.fields().get("code");
      if (code instanceof JsonString wire && wire.value().equals(ErrorCode.INTERNAL.wire())) {
        outcomes.failed.increment();
      } else {
        outcomes.rejected.increment();
      }
      error(code instanceof JsonString wire ? wire.value() : null);
    } else if (reply.fields().get("duplicate") == JsonBoolean.TRUE) {
      outcomes.duplicate.increment();
    } else {
      outcomes.accepted.increment();
    }
  }

  /** One error sent that answers no frame (a refused connection's line); {@code code} as on the wire. */
  public void error(String code) {
    Counter counter = code == null ? null : errorsByCode.get(code);
    if (counter != null) {
      counter.increment();
    }
  }

  /** One refusal by {@code limit}. */
  public void rateLimited(RateLimit limit) {
    rateLimited.get(limit).increment();
  }

  /** A connection's transport turned out as {@code transport}. */
  public void transport(Transport transport) {
    transports.get(transport).increment();
  }

  /** A connection was accepted. */
  public void connectionAccepted() {
    accepted.increment();
  }

  /** An accepted connection closed. */
  public void connectionClosed() {
    closed.increment();
  }

  /** A connection was closed for staying over its output share. */
  public void outputClosed() {
    outputCloses.increment();
  }

  /** The meters of the plugin {@code pluginId}: the same ones for every load of it. */
  public PluginMeters plugin(String pluginId) {
    return plugins.computeIfAbsent(pluginId, id -> new PluginMeters(registry, id));
  }

  private Outcomes of(String type) {
    Outcomes outcomes = byType.get(type);
    if (outcomes != null) {
      return outcomes;
    }
    if (!knownTypes.test(type)) {
      return otherType;
    }
    return byType.computeIfAbsent(type, t -> new Outcomes(registry, t));
  }

  /** Stops the JVM's GC listener and closes the registry. */
  @Override
  public void close() {
    if (gc != null) {
      gc.close();
    }
    registry.close();
  }

  private static Duration[] millis(double... values) {
    Duration[] buckets = new Duration[values.length];
    for (int i = 0; i < values.length; i++) {
      buckets[i] = Duration.ofNanos(Math.round(values[i] * 1_000_000));
    }
    return buckets;
  }

  /** The message counters of one type label. */
  private static final class Outcomes {
    final Counter accepted;
    final Counter duplicate;
    final Counter rejected;
    final Counter failed;

    Outcomes(MeterRegistry registry, String type) {
      accepted = counter(registry, type, "accepted");
      duplicate = counter(registry, type, "duplicate");
      rejected = counter(registry, type, "rejected");
      failed = counter(registry, type, "failed");
    }

    private static Counter counter(MeterRegistry registry, String type, String outcome) {
      return Counter.builder("esmp.messages").tag("type", type).tag("outcome", outcome)
          .description("Messages answered, by type and outcome").register(registry);
    }
  }

  /** How a call into a plugin ended. */
  public enum CallOutcome {
    /** It answered. */
    OK("ok"),
    /** It refused the message with a protocol error (a {@code RejectedException}). */
    REJECTED("rejected"),
    /** It threw, answered null or failed its stage. */
    FAILED("failed"),
    /** It did not return or answer within the plugin timeouts. */
    TIMEOUT("timeout");

    private final String label;

    CallOutcome(String label) {
      this.label = label;
    }
  }

  /**
   * The meters of one plugin: its calls by method and outcome, their latency, its listener's drops.
   * A method's meters are made on its first call: a plugin has series only for what it does.
   */
  public static final class PluginMeters {
    private final MeterRegistry registry;
    private final String pluginId;
    private final Map<String, CallMeters> methods = new ConcurrentHashMap<>();
    private final Counter listenerDropped;

    private PluginMeters(MeterRegistry registry, String pluginId) {
      this.registry = registry;
      this.pluginId = pluginId;
      listenerDropped = Counter.builder("esmp.plugin.listener.dropped").tag("plugin", pluginId)
          .description("Calls of a message listener dropped because it could not keep up").register(registry);
    }

    /**
     * The meters of the method named {@code what}, as {@code PluginCalls} names it:
     * {@code handle}, {@code deliver}, {@code validate}, {@code message listener} (label
     * {@code listener}); anything else is {@code other}.
     */
    public CallMeters method(String what) {
      String method = switch (what) {
        case "handle", "deliver", "validate" -> what;
        case "message listener" -> "listener";
        default -> "other";
      };
      CallMeters meters = methods.get(method);
      return meters != null ? meters : methods.computeIfAbsent(method, m -> new CallMeters(registry, pluginId, m));
    }

    /** A listener call was dropped. */
    public void listenerDropped() {
      listenerDropped.increment();
    }
  }

  /** The meters of one method of one plugin. */
  public static final class CallMeters {
    private final Timer latency;
    private final Counter[] outcomes = new Counter[CallOutcome.values().length];

    private CallMeters(MeterRegistry registry, String pluginId, String method) {
      latency = Timer.builder("esmp.plugin.call").tag("plugin", pluginId).tag("method", method)
          .serviceLevelObjectives(PLUGIN_BUCKETS)
          .description("Time from a call into a plugin until its answer was decided").register(registry);
      for (CallOutcome outcome : CallOutcome.values()) {
        outcomes[outcome.ordinal()] = Counter.builder("esmp.plugin.calls").tag("plugin", pluginId)
            .tag("method", method).tag("outcome", outcome.label)
            .description("Calls into plugins, by plugin, method and outcome").register(registry);
      }
    }

    /** One call ended with {@code outcome} after {@code nanos}. */
    public void record(CallOutcome outcome, long nanos) {
      latency.record(nanos, TimeUnit.NANOSECONDS);
      outcomes[outcome.ordinal()].increment();
    }
  }
}
