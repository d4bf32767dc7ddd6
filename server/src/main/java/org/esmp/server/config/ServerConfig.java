package org.esmp.server.config;

import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;

/**
 * The server's whole configuration, validated once at start and passed down by constructors.
 *
 * @param bind address to listen on
 * @param port TCP port; 0 picks a free one (tests)
 * @param domain the main domain, announced in {@code hello}
 * @param domains every domain served, the main one first
 * @param dataDir where plugins keep durable state, and the server its lock and the plugin jars' copies
 *     ({@link org.esmp.server.data.DataDirectory}); one server at a time
 * @param pluginsDir where plugin jars are loaded from
 * @param maxFrame largest frame in bytes, line ending not counted
 * @param maxDepth deepest JSON nesting accepted; the frame's object is level 1
 * @param tsSkew largest accepted difference between a message's {@code ts} and the server clock
 * @param registration whether {@code auth} may create new addresses
 * @param pingInterval idle time after which the server sends {@code ping}
 * @param verifyThreads threads that parse and verify frames
 * @param maxRecipients most distinct recipients of a direct message
 * @param retention how long mailbox entries and records of accepted messages are kept
 * @param pluginTimeout how long a plugin's method may take to return before its message is
 *     answered {@code internal} (the server stops waiting; the plugin's thread is interrupted)
 * @param pluginAnswerTimeout how long the answer a plugin's method returned (a stage) may take to
 *     complete, from the call, before its message is answered {@code internal}
 * @param maxKeysPerAddress most keys one address may have; a {@code key_add} past it is
 *     {@code forbidden}
 * @param reservedNames local parts that {@code auth} may not register (on any served domain);
 *     addresses that already exist, and those the operator adds with {@code add-user}, are not
 *     affected
 * @param maxGroupMembers most members of one group; a system event that would go past it is
 *     {@code forbidden}
 * @param maxConnections most connections open at once; the next one gets one {@code error} and is closed
 * @param maxConnectionsPerIp most connections open at once from one IP address (loopback included)
 * @param firstMessageTimeout how long a connection may go after {@code hello} without sending a
 *     complete frame before it is closed
 * @param lineTimeout how long a line, once its first byte arrived, may take to complete before its
 *     connection is closed
 * @param maxConnectionsPerAddress most connections authenticated as one address at once; an
 *     {@code auth} past it is answered {@code rate_limited}
 * @param idleUnsyncedTimeout how long a connection that has not synced may go without sending a
 *     complete frame before it is closed
 * @param ipFramesPerSecond frames one IP (an IPv6 /64) may send per second, counted before
 *     verification; a frame over it is answered {@code rate_limited} without being verified
 * @param ipFramesBurst most frames one IP may send at once
 * @param ipBytesPerSecond bytes of frames one IP may send per second, counted like frames
 * @param ipBytesBurst most bytes of frames one IP may send at once; at least {@code maxFrame}
 * @param addressMessagesPerSecond verified messages one address may send per second
 * @param addressMessagesBurst most verified messages one address may send at once
 * @param registrationsPerIpPerHour addresses one IP may register with {@code auth} per hour
 * @param keyChangesPerAddressPerHour {@code key_add} and {@code key_revoke} changes one address may
 *     make per hour
 * @param outputConnectionBytes bytes queued to one connection (answers and pushes, not yet written to
 *     its socket) before it is over its share of the output budget
 * @param outputTotalBytes bytes queued to all connections together before each is held to its equal
 *     share of this
 * @param outputGrace how long a connection may stay over its output share, its live pushes held
 *     back, before it is closed
 * @param inputTotalBytes bytes read and not yet answered (and started lines), for all connections
 *     together, before each is held to its equal share of this (the server stops reading it)
 * @param tls TLS on the same port: {@link Tls#OFF} unless a certificate and key are configured
 * @param peering federation with other domains' servers (ESMP/1 section 8)
 * @param storage which storage plugin runs: the one with id {@code storage-<storage>} ({@code
 *     mapdb}, {@code postgres}); null: whichever one is installed
 * @param pluginSettings each plugin's own settings by plugin id ({@code plugin_settings}, and the
 *     database flags for {@code storage-postgres}), as {@code ServerContext.settings()} gives them
 * @param metrics the metrics port (Prometheus {@code /metrics}, {@code /health}, {@code /ready}):
 *     off unless configured
 * @param configFile the configuration file these settings were read from, absolute, for the
 *     startup line; null when none was (embedded defaults and flags alone)
 */
public record ServerConfig(
    String bind,
    int port,
    String domain,
    List<String> domains,
    Path dataDir,
    Path pluginsDir,
    int maxFrame,
    int maxDepth,
    Duration tsSkew,
    Registration registration,
    Duration pingInterval,
    int verifyThreads,
    int maxRecipients,
    Duration retention,
    Duration pluginTimeout,
    Duration pluginAnswerTimeout,
    int maxKeysPerAddress,
    Set<String> reservedNames,
    int maxGroupMembers,
    int maxConnections,
    int maxConnectionsPerIp,
    Duration firstMessageTimeout,
    Duration lineTimeout,
    Duration idleUnsyncedTimeout,
    int ipFramesPerSecond,
    int ipFramesBurst,
    int ipBytesPerSecond,
    int ipBytesBurst,
    int addressMessagesPerSecond,
    int addressMessagesBurst,
    int registrationsPerIpPerHour,
    int keyChangesPerAddressPerHour,
    int maxConnectionsPerAddress,
    long outputConnectionBytes,
    long outputTotalBytes,
    Duration outputGrace,
    long inputTotalBytes,
    Tls tls,
    Metrics metrics,
    Peering peering,
    String storage,
    Map<String, Map<String, String>> pluginSettings,
    Path configFile) {

  /** The local parts reserved by default (ESMP/1 section 4). */
  public static final Set<String> DEFAULT_RESERVED_NAMES = Set.of(
      "postmaster", "admin", "administrator", "root", "abuse", "security", "hostmaster", "webmaster",
      "support", "noreply");

  /**
   * TLS on the ESMP port, told from plaintext by a connection's first bytes.
   *
   * @param cert PEM file with the certificate chain, the server's own certificate first; null: TLS off
   * @param key PEM file with the private key of that certificate (PKCS#8, PKCS#1 or SEC1)
   * @param required whether a plaintext connection is refused (one {@code error}, then closed)
   * @param reloadInterval how often the two files are read again; a changed pair is served to new
   *     connections from then on
   * @param detectTimeout how long a new connection may send nothing before it is taken to be a
   *     plaintext client waiting for {@code hello} (a TLS client speaks first)
   */
  public record Tls(Path cert, Path key, boolean required, Duration reloadInterval, Duration detectTimeout) {

    /** No TLS: every connection is plaintext. */
    public static final Tls OFF = new Tls(null, null, false, Duration.ofSeconds(10), Duration.ofMillis(500));

    public Tls {
      if ((cert == null) != (key == null)) {
        throw new ConfigException("tls_cert and tls_key go together: set both or neither");
      }
      if (cert == null && required) {
        throw new ConfigException("require_tls needs tls_cert and tls_key");
      }
      Objects.requireNonNull(reloadInterval, "tls_reload_seconds");
      if (reloadInterval.toMillis() < 10 || reloadInterval.toSeconds() > 86_400) {
        throw new ConfigException("tls_reload_seconds must be 1-86400, got " + reloadInterval.toSeconds());
      }
      Objects.requireNonNull(detectTimeout, "tls_detect_millis");
      if (detectTimeout.toMillis() < 10 || detectTimeout.toMillis() > 60_000) {
        throw new ConfigException("tls_detect_millis must be 10-60000, got " + detectTimeout.toMillis());
      }
    }

    /** Whether the port speaks TLS. */
    public boolean enabled() {
      return cert != null;
    }
  }

  /** Whether unknown addresses may register themselves with {@code auth}. */
  public enum Registration {
    /** {@code auth} with a new address and an unbound key creates the address. */
    OPEN,
    /** Only an operator adds addresses. */
    CLOSED
  }

  /** Checks every value; throws {@link ConfigException} naming the first bad one. */
  public ServerConfig {
    Objects.requireNonNull(bind, "bind");
    if (port < 0 || port > 65535) {
      throw new ConfigException("port must be 0-65535, got " + port);
    }
    if (domain == null || !Address.isDomain(domain)) {
      throw new ConfigException("domain must be a lowercase DNS name, got '" + domain + "'");
    }
    Set<String> all = new LinkedHashSet<>();
    all.add(domain);
    for (String d : domains) {
      if (d == null || !Address.isDomain(d)) {
        throw new ConfigException("domains must be lowercase DNS names, got '" + d + "'");
      }
      all.add(d);
    }
    domains = List.copyOf(all);
    Objects.requireNonNull(dataDir, "data_dir");
    Objects.requireNonNull(pluginsDir, "plugins_dir");
    if (maxFrame < 256 || maxFrame > 16 * 1024 * 1024) {
      throw new ConfigException("max_frame must be 256-16777216 bytes, got " + maxFrame);
    }
    if (maxDepth < 2 || maxDepth > 1000) {
      throw new ConfigException("max_depth must be 2-1000, got " + maxDepth);
    }
    if (tsSkew.isNegative() || tsSkew.isZero()) {
      throw new ConfigException("ts_skew_seconds must be positive");
    }
    Objects.requireNonNull(registration, "registration");
    if (pingInterval.isNegative()) {
      throw new ConfigException("ping_interval_seconds must be 0 (off) or positive");
    }
    if (verifyThreads < 1 || verifyThreads > 1024) {
      throw new ConfigException("verify_threads must be 1-1024, got " + verifyThreads);
    }
    if (maxGroupMembers < 2 || maxGroupMembers > 1_000_000) {
      throw new ConfigException("max_group_members must be 2-1000000, got " + maxGroupMembers);
    }
    if (maxRecipients < 1 || maxRecipients > 100_000) {
      throw new ConfigException("max_recipients must be 1-100000, got " + maxRecipients);
    }
    if (retention.toHours() < 1) {
      throw new ConfigException("retention_days must be at least 1");
    }
    // A message is accepted while its ts is within the skew of the clock, so a replay could come up
    // to twice the skew after the first: its accepted id must be kept at least that long.
    if (retention.compareTo(tsSkew.multipliedBy(2)) <= 0) {
      throw new ConfigException("retention_days must be longer than twice ts_skew_seconds (a replay within the "
          + "skew must find the accepted id), got " + retention.toDays() + " days and " + tsSkew.toSeconds() + " s");
    }
    if (pluginTimeout.toMillis() < 100 || pluginTimeout.toSeconds() > 3600) {
      throw new ConfigException("plugin_timeout_seconds must be 1-3600, got " + pluginTimeout.toSeconds());
    }
    if (pluginAnswerTimeout.compareTo(pluginTimeout) < 0 || pluginAnswerTimeout.toSeconds() > 3600) {
      throw new ConfigException("plugin_answer_timeout_seconds must be at least plugin_timeout_seconds and at most 3600, got "
          + pluginAnswerTimeout.toSeconds());
    }
    if (maxKeysPerAddress < 1 || maxKeysPerAddress > 1000) {
      throw new ConfigException("max_keys_per_address must be 1-1000, got " + maxKeysPerAddress);
    }
    Objects.requireNonNull(reservedNames, "reserved_names");
    for (String name : reservedNames) {
      // A reserved name is matched against an address's local part, so it must be one.
      if (name == null || !Address.isValid(name + "#" + domain)) {
        throw new ConfigException("reserved_names must be local parts of addresses (lowercase, as in "
            + "name#" + domain + "), got '" + name + "'");
      }
    }
    reservedNames = Set.copyOf(reservedNames);
    if (maxConnections < 1 || maxConnections > 10_000_000) {
      throw new ConfigException("max_connections must be 1-10000000, got " + maxConnections);
    }
    if (maxConnectionsPerIp < 1 || maxConnectionsPerIp > maxConnections) {
      throw new ConfigException("max_connections_per_ip must be 1-max_connections (" + maxConnections + "), got "
          + maxConnectionsPerIp);
    }
    Objects.requireNonNull(tls, "tls");
    requireDeadline("first_message_seconds", firstMessageTimeout);
    requireDeadline("line_seconds", lineTimeout);
    requireDeadline("idle_unsynced_seconds", idleUnsyncedTimeout);
    positive("ip_frames_per_second", ipFramesPerSecond);
    positive("ip_frames_burst", ipFramesBurst);
    positive("ip_bytes_per_second", ipBytesPerSecond);
    positive("ip_bytes_burst", ipBytesBurst);
    if (ipBytesBurst < maxFrame) {
      throw new ConfigException("ip_bytes_burst must be at least max_frame (" + maxFrame
          + "), or a frame of max_frame bytes could never pass; got " + ipBytesBurst);
    }
    positive("address_messages_per_second", addressMessagesPerSecond);
    positive("address_messages_burst", addressMessagesBurst);
    positive("registrations_per_ip_per_hour", registrationsPerIpPerHour);
    positive("key_changes_per_address_per_hour", keyChangesPerAddressPerHour);
    positive("max_connections_per_address", maxConnectionsPerAddress);
    if (outputConnectionBytes < maxFrame || outputConnectionBytes > MAX_BUDGET) {
      throw new ConfigException("output_connection_bytes must be max_frame (" + maxFrame + ") to " + MAX_BUDGET
          + ", got " + outputConnectionBytes);
    }
    if (outputTotalBytes < outputConnectionBytes || outputTotalBytes > MAX_BUDGET) {
      throw new ConfigException("output_total_bytes must be output_connection_bytes (" + outputConnectionBytes
          + ") to " + MAX_BUDGET + ", got " + outputTotalBytes);
    }
    requireDeadline("output_grace_seconds", outputGrace);
    if (inputTotalBytes < 4L * maxFrame || inputTotalBytes > MAX_BUDGET) {
      throw new ConfigException("input_total_bytes must be 4 x max_frame (" + 4L * maxFrame + ") to " + MAX_BUDGET
          + ", got " + inputTotalBytes);
    }
    Objects.requireNonNull(peering, "peering");
    for (Peer peer : peering.peers()) {
      if (domains.contains(peer.domain())) {
        throw new ConfigException("peers: " + peer.domain() + " is a domain of this server, not a peer's");
      }
    }
    if (peering.outboxMaxAge().compareTo(retention) >= 0) {
      throw new ConfigException("outbox_max_age_hours must be shorter than retention_days (an entry that waited too "
          + "long must still be there to be told of), got " + peering.outboxMaxAge().toHours() + " h and "
          + retention.toDays() + " days");
    }
    if (storage != null && !storage.matches("[a-z0-9][a-z0-9-]{0,63}")) {
      throw new ConfigException("storage must be the name of a storage plugin (storage-NAME), such as mapdb or "
          + "postgres; got '" + storage + "'");
    }
    Map<String, Map<String, String>> settings = new TreeMap<>();
    pluginSettings.forEach((plugin, values) -> settings.put(plugin, Map.copyOf(values)));
    pluginSettings = Collections.unmodifiableMap(settings);
    Objects.requireNonNull(metrics, "metrics");
    if (metrics.enabled() && metrics.port() != 0 && metrics.port() == port) {
      throw new ConfigException("metrics_port must differ from port (" + port + ")");
    }
  }

  /**
   * The metrics port: HTTP {@code GET /metrics} (Prometheus text format), {@code /health} and
   * {@code /ready}, apart from the ESMP port.
   *
   * @param enabled whether the server listens for metrics at all (off by default)
   * @param port its TCP port; 0 picks a free one (tests: {@code metrics_port: 0} in the file and
   *     {@code --metrics-port 0} mean off instead)
   * @param bind address to listen on; loopback unless configured
   */
  public record Metrics(boolean enabled, int port, String bind) {

    /** Checks the port and the address. */
    public Metrics {
      if (port < 0 || port > 65535) {
        throw new ConfigException("metrics_port must be 0 (off) or 1-65535, got " + port);
      }
      if (bind == null || bind.isBlank()) {
        throw new ConfigException("metrics_bind must be a non-empty address");
      }
    }
  }

  /**
   * A peer the operator configured ({@code peers} in esmp.yaml, {@code --peer}).
   *
   * @param domain the domain its server serves
   * @param host its host name or address
   * @param port its port
   * @param pin its server key, when pinned: the only key trusted for it, and plaintext allowed
   */
  public record Peer(String domain, String host, int port, Optional<Ed25519Key> pin) {

    /** Checks the domain, host and port. */
    public Peer {
      if (domain == null || !Address.isDomain(domain)) {
        throw new ConfigException("a peer's domain must be a lowercase DNS name, got '" + domain + "'");
      }
      if (host == null || host.isBlank()) {
        throw new ConfigException("peer " + domain + " needs a host");
      }
      if (port < 1 || port > 65535) {
        throw new ConfigException("peer " + domain + ": port must be 1-65535, got " + port);
      }
      Objects.requireNonNull(pin, "pin");
    }

    /**
     * A peer as {@code --peer} writes it: {@code DOMAIN=HOST:PORT[:BASE64KEY]}, an IPv6 host in
     * brackets.
     */
    public static Peer parse(String text) {
      int equals = text.indexOf('=');
      if (equals < 1) {
        throw new ConfigException("--peer must be DOMAIN=HOST:PORT[:BASE64KEY], got '" + text + "'");
      }
      String domain = text.substring(0, equals);
      String rest = text.substring(equals + 1);
      String host;
      if (rest.startsWith("[")) {
        int close = rest.indexOf(']');
        if (close < 0) {
          throw new ConfigException("--peer " + domain + ": an IPv6 host needs its closing ']', got '" + rest + "'");
        }
        host = rest.substring(1, close);
        rest = rest.substring(close + 1);
        if (!rest.startsWith(":")) {
          throw new ConfigException("--peer " + domain + ": a port must follow the host, got '" + text + "'");
        }
        rest = rest.substring(1);
      } else {
        int colon = rest.indexOf(':');
        if (colon < 0) {
          throw new ConfigException("--peer must be DOMAIN=HOST:PORT[:BASE64KEY], got '" + text + "'");
        }
        host = rest.substring(0, colon);
        rest = rest.substring(colon + 1);
      }
      int colon = rest.indexOf(':');
      String port = colon < 0 ? rest : rest.substring(0, colon);
      Optional<Ed25519Key> pin = colon < 0 ? Optional.empty() : Optional.of(key(domain, rest.substring(colon + 1)));
      try {
        return new Peer(domain, host, Integer.parseInt(port), pin);
      } catch (NumberFormatException e) {
        throw new ConfigException("--peer " + domain + ": port must be a number, got '" + port + "'");
      }
    }

    /** A pinned server key, as {@code --print-server-key} prints it. */
    public static Ed25519Key key(String domain, String base64) {
      try {
        return Ed25519Key.fromBase64(base64);
      } catch (IllegalArgumentException e) {
        throw new ConfigException("peer " + domain + ": key must be a server key as --print-server-key prints it "
            + "(the standard base64 of 32 bytes), got '" + base64 + "'");
      }
    }
  }

  /**
   * Federation with other domains' servers (ESMP/1 section 8).
   *
   * @param peers the peers configured, by domain
   * @param connectTimeout connecting to a peer, TLS and its {@code hello} included
   * @param answerTimeout a peer's answer to a relay; a forwarded message past it is
   *     {@code peer_unavailable}
   * @param retryMax the longest wait between attempts to reach a peer
   * @param outboxMaxMessages most entries waiting for one domain
   * @param outboxMaxAge how long an entry may wait before it becomes a {@code delivery_failed} notice
   * @param tlsTrust PEM certificates trusted for peers' TLS besides the system's; null: none
   * @param peerMessagesPerSecond relays one peer may send per second, counted after verification
   * @param peerMessagesBurst most relays one peer may send at once
   */
  public record Peering(List<Peer> peers, Duration connectTimeout, Duration answerTimeout, Duration retryMax,
      int outboxMaxMessages, Duration outboxMaxAge, Path tlsTrust, int peerMessagesPerSecond, int peerMessagesBurst) {

    /** Checks every value. */
    public Peering {
      Set<String> seen = new HashSet<>();
      for (Peer peer : peers) {
        if (!seen.add(peer.domain())) {
          throw new ConfigException("peers: " + peer.domain() + " is configured twice");
        }
      }
      peers = List.copyOf(peers);
      requireDeadline("federation_connect_seconds", connectTimeout);
      requireDeadline("federation_answer_seconds", answerTimeout);
      requireDeadline("federation_retry_max_seconds", retryMax);
      positive("outbox_max_messages", outboxMaxMessages);
      Objects.requireNonNull(outboxMaxAge, "outbox_max_age_hours");
      if (outboxMaxAge.toMinutes() < 1) {
        throw new ConfigException("outbox_max_age_hours must be at least 1");
      }
      positive("peer_messages_per_second", peerMessagesPerSecond);
      positive("peer_messages_burst", peerMessagesBurst);
    }

    /** The peer configured for {@code domain}, if any. */
    public Optional<Peer> peer(String domain) {
      return peers.stream().filter(p -> p.domain().equals(domain)).findFirst();
    }
  }

  /** Where the metrics port listens unless configured: loopback only. */
  public static final String DEFAULT_METRICS_BIND = "127.0.0.1";

  /** The largest memory budget accepted (64 GiB): a larger one is a typo. */
  private static final long MAX_BUDGET = 64L * 1024 * 1024 * 1024;

  /** A connection deadline: at least 100 ms (tests go below a second), at most a day. */
  private static void requireDeadline(String key, Duration value) {
    Objects.requireNonNull(value, key);
    if (value.toMillis() < 100 || value.toSeconds() > 86_400) {
      throw new ConfigException(key + " must be 1-86400, got " + value.toSeconds());
    }
  }

  private static void positive(String key, int value) {
    if (value < 1) {
      throw new ConfigException(key + " must be at least 1, got " + value);
    }
  }

  /**
   * The plugin the database settings are for ({@code jdbc_url}, {@code db_user}, {@code
   * db_password_file}, {@code db_pool_size}; {@code --jdbc-url}, {@code --db-user}, {@code
   * --db-password-file}): the storage on PostgreSQL, as its settings {@code jdbc_url}, {@code
   * user}, {@code password_file} and {@code pool_size}.
   */
  public static final String POSTGRES_PLUGIN = "storage-postgres";

  /** The id of the storage plugin that runs, when one is chosen: {@code storage-<storage>}. */
  public Optional<String> storagePlugin() {
    return Optional.ofNullable(storage).map(name -> "storage-" + name);
  }

  /** The settings of plugin {@code pluginId}; empty when it has none. */
  public Map<String, String> settingsOf(String pluginId) {
    return pluginSettings.getOrDefault(pluginId, Map.of());
  }

  /** Whether {@code auth} may not register an address with this local part. */
  public boolean reserves(String localPart) {
    return reservedNames.contains(localPart);
  }

  /** Whether this server serves {@code domain}. */
  public boolean serves(String domain) {
    return domains.contains(domain);
  }

  /** A builder holding the embedded defaults. */
  public static Builder builder() {
    return new Builder();
  }

  /** Collects settings; {@link #build()} validates them. */
  public static final class Builder {
    private String bind = "0.0.0.0";
    private int port = 5888;
    private String domain = "localhost";
    private List<String> domains = List.of();
    private Path dataDir = Path.of("data");
    private Path pluginsDir = Path.of("plugins");
    private int maxFrame = 65536;
    private int maxDepth = 64;
    private Duration tsSkew = Duration.ofMinutes(15);
    private Registration registration = Registration.OPEN;
    private Duration pingInterval = Duration.ofSeconds(60);
    private int verifyThreads = Runtime.getRuntime().availableProcessors();
    private int maxRecipients = 100;
    private Duration retention = Duration.ofDays(30);
    private Duration pluginTimeout = Duration.ofSeconds(5);
    /** Unset: 60 s, or the call timeout if that is longer. */
    private Duration pluginAnswerTimeout;
    private int maxKeysPerAddress = 16;
    private Set<String> reservedNames = DEFAULT_RESERVED_NAMES;
    private int maxGroupMembers = 1000;
    private int maxConnections = 10_000;
    private int maxConnectionsPerIp = 100;
    private Duration firstMessageTimeout = Duration.ofSeconds(30);
    private Duration lineTimeout = Duration.ofSeconds(30);
    private Duration idleUnsyncedTimeout = Duration.ofSeconds(300);
    private int ipFramesPerSecond = 200;
    private int ipFramesBurst = 400;
    private int ipBytesPerSecond = 1024 * 1024;
    private int ipBytesBurst = 2 * 1024 * 1024;
    private int addressMessagesPerSecond = 50;
    private int addressMessagesBurst = 100;
    private int registrationsPerIpPerHour = 20;
    private int keyChangesPerAddressPerHour = 10;
    private int maxConnectionsPerAddress = 32;
    private long outputConnectionBytes = 16L * 1024 * 1024;
    private long outputTotalBytes = 64L * 1024 * 1024;
    private Duration outputGrace = Duration.ofSeconds(5);
    private long inputTotalBytes = 2L * 1024 * 1024;
    private Path tlsCert;
    private Path tlsKey;
    /** Unset: on once a certificate is configured. */
    private Boolean requireTls;
    private Duration tlsReloadInterval = Tls.OFF.reloadInterval();
    private Duration tlsDetectTimeout = Tls.OFF.detectTimeout();
    private final List<Peer> peers = new ArrayList<>();
    private Duration federationConnectTimeout = Duration.ofSeconds(10);
    private Duration federationAnswerTimeout = Duration.ofSeconds(30);
    private Duration federationRetryMax = Duration.ofMinutes(5);
    private int outboxMaxMessages = 100_000;
    /** Unset: 7 days, or half the retention if that is shorter. */
    private Duration outboxMaxAge;
    private Path federationTlsTrust;
    private int peerMessagesPerSecond = 1000;
    private int peerMessagesBurst = 2000;
    /** Null: whichever storage plugin is installed. */
    private String storage;
    private final Map<String, Map<String, String>> pluginSettings = new LinkedHashMap<>();
    /** Null: no metrics port. */
    private Integer metricsPort;
    private String metricsBind = DEFAULT_METRICS_BIND;
    private Path configFile;

    private Builder() {}

    public Builder bind(String value) {
      bind = value;
      return this;
    }

    public Builder port(int value) {
      port = value;
      return this;
    }

    public Builder domain(String value) {
      domain = value;
      return this;
    }

    public Builder domains(List<String> value) {
      domains = List.copyOf(value);
      return this;
    }

    public Builder dataDir(Path value) {
      dataDir = value;
      return this;
    }

    public Builder pluginsDir(Path value) {
      pluginsDir = value;
      return this;
    }

    public Builder maxFrame(int value) {
      maxFrame = value;
      return this;
    }

    public Builder maxDepth(int value) {
      maxDepth = value;
      return this;
    }

    public Builder tsSkew(Duration value) {
      tsSkew = value;
      return this;
    }

    public Builder registration(Registration value) {
      registration = value;
      return this;
    }

    public Builder pingInterval(Duration value) {
      pingInterval = value;
      return this;
    }

    /** Threads for parsing and verification; 0 means one per core. */
    public Builder verifyThreads(int value) {
      verifyThreads = value == 0 ? Runtime.getRuntime().availableProcessors() : value;
      return this;
    }

    public Builder maxRecipients(int value) {
      maxRecipients = value;
      return this;
    }

    public Builder retention(Duration value) {
      retention = value;
      return this;
    }

    /** How long a plugin's method may take to return; tests may go below a second. */
    public Builder pluginTimeout(Duration value) {
      pluginTimeout = value;
      return this;
    }

    /** How long the stage a plugin's method returned may take to complete. */
    public Builder pluginAnswerTimeout(Duration value) {
      pluginAnswerTimeout = value;
      return this;
    }

    public Builder maxKeysPerAddress(int value) {
      maxKeysPerAddress = value;
      return this;
    }

    /** Replaces the reserved local parts; an empty collection reserves none. */
    public Builder reservedNames(Collection<String> value) {
      reservedNames = new LinkedHashSet<>(value);
      return this;
    }

    public Builder maxGroupMembers(int value) {
      maxGroupMembers = value;
      return this;
    }

    public Builder maxConnections(int value) {
      maxConnections = value;
      return this;
    }

    public Builder maxConnectionsPerIp(int value) {
      maxConnectionsPerIp = value;
      return this;
    }

    /** Time to send a first complete frame after {@code hello}; tests may go below a second. */
    public Builder firstMessageTimeout(Duration value) {
      firstMessageTimeout = value;
      return this;
    }

    /** Time for a started line to complete; tests may go below a second. */
    public Builder lineTimeout(Duration value) {
      lineTimeout = value;
      return this;
    }

    /** Time a connection that has not synced may send nothing; tests may go below a second. */
    public Builder idleUnsyncedTimeout(Duration value) {
      idleUnsyncedTimeout = value;
      return this;
    }

    public Builder ipFramesPerSecond(int value) {
      ipFramesPerSecond = value;
      return this;
    }

    public Builder ipFramesBurst(int value) {
      ipFramesBurst = value;
      return this;
    }

    public Builder ipBytesPerSecond(int value) {
      ipBytesPerSecond = value;
      return this;
    }

    public Builder ipBytesBurst(int value) {
      ipBytesBurst = value;
      return this;
    }

    public Builder addressMessagesPerSecond(int value) {
      addressMessagesPerSecond = value;
      return this;
    }

    public Builder addressMessagesBurst(int value) {
      addressMessagesBurst = value;
      return this;
    }

    public Builder registrationsPerIpPerHour(int value) {
      registrationsPerIpPerHour = value;
      return this;
    }

    public Builder keyChangesPerAddressPerHour(int value) {
      keyChangesPerAddressPerHour = value;
      return this;
    }

    public Builder maxConnectionsPerAddress(int value) {
      maxConnectionsPerAddress = value;
      return this;
    }

    public Builder outputConnectionBytes(long value) {
      outputConnectionBytes = value;
      return this;
    }

    public Builder outputTotalBytes(long value) {
      outputTotalBytes = value;
      return this;
    }

    public Builder outputGrace(Duration value) {
      outputGrace = value;
      return this;
    }

    public Builder inputTotalBytes(long value) {
      inputTotalBytes = value;
      return this;
    }

    /** The PEM certificate chain and private key of TLS; both null: TLS off. */
    public Builder tls(Path cert, Path key) {
      tlsCert = cert;
      tlsKey = key;
      return this;
    }

    public Builder tlsCert(Path value) {
      tlsCert = value;
      return this;
    }

    public Builder tlsKey(Path value) {
      tlsKey = value;
      return this;
    }

    /** Whether plaintext is refused; unset, it is once a certificate is configured. */
    public Builder requireTls(boolean value) {
      requireTls = value;
      return this;
    }

    /** How often the certificate and key files are looked at; tests may go below a second. */
    public Builder tlsReloadInterval(Duration value) {
      tlsReloadInterval = value;
      return this;
    }

    public Builder tlsDetectTimeout(Duration value) {
      tlsDetectTimeout = value;
      return this;
    }

    /** The metrics port ({@code metrics_port}, {@code --metrics-port}); 0 turns it off. */
    public Builder metricsPort(int value) {
      metricsPort = value == 0 ? null : value;
      return this;
    }

    /** Listens for metrics on a free port, which {@code EsmpServer.metricsPort()} tells (tests). */
    public Builder metricsOnAnyPort() {
      metricsPort = 0;
      return this;
    }

    /** The address the metrics port listens on ({@code metrics_bind}). */
    public Builder metricsBind(String value) {
      metricsBind = value;
      return this;
    }

    /** A configured peer; one of a domain already configured replaces it (a flag over the file). */
    public Builder peer(Peer value) {
      peers.removeIf(p -> p.domain().equals(value.domain()));
      peers.add(value);
      return this;
    }

    public Builder federationConnectTimeout(Duration value) {
      federationConnectTimeout = value;
      return this;
    }

    public Builder federationAnswerTimeout(Duration value) {
      federationAnswerTimeout = value;
      return this;
    }

    public Builder federationRetryMax(Duration value) {
      federationRetryMax = value;
      return this;
    }

    public Builder outboxMaxMessages(int value) {
      outboxMaxMessages = value;
      return this;
    }

    public Builder outboxMaxAge(Duration value) {
      outboxMaxAge = value;
      return this;
    }

    public Builder federationTlsTrust(Path value) {
      federationTlsTrust = value;
      return this;
    }

    public Builder peerMessagesPerSecond(int value) {
      peerMessagesPerSecond = value;
      return this;
    }

    public Builder peerMessagesBurst(int value) {
      peerMessagesBurst = value;
      return this;
    }

    /** The storage plugin to run: {@code storage-<value>} ({@code storage}, {@code --storage}). */
    public Builder storage(String value) {
      storage = value;
      return this;
    }

    /** Sets {@code key} of plugin {@code pluginId}'s settings, replacing what was there. */
    public Builder pluginSetting(String pluginId, String key, String value) {
      pluginSettings.computeIfAbsent(pluginId, id -> new LinkedHashMap<>()).put(key, value);
      return this;
    }

    /** The file the settings were read from ({@link ConfigFile#apply} sets it). */
    public Builder configFile(Path value) {
      configFile = value;
      return this;
    }

    public ServerConfig build() {
      return new ServerConfig(
          bind, port, domain, domains, dataDir, pluginsDir, maxFrame, maxDepth, tsSkew,
          registration, pingInterval, verifyThreads, maxRecipients, retention, pluginTimeout,
          pluginAnswerTimeout != null ? pluginAnswerTimeout
              : pluginTimeout.compareTo(Duration.ofSeconds(60)) > 0 ? pluginTimeout : Duration.ofSeconds(60),
          maxKeysPerAddress, reservedNames, maxGroupMembers, maxConnections, maxConnectionsPerIp,
          firstMessageTimeout, lineTimeout, idleUnsyncedTimeout, ipFramesPerSecond, ipFramesBurst,
          ipBytesPerSecond, ipBytesBurst, addressMessagesPerSecond, addressMessagesBurst,
          registrationsPerIpPerHour, keyChangesPerAddressPerHour, maxConnectionsPerAddress,
          outputConnectionBytes, outputTotalBytes, outputGrace, inputTotalBytes,
          new Tls(tlsCert, tlsKey, requireTls != null ? requireTls : tlsCert != null, tlsReloadInterval,
              tlsDetectTimeout),
          metricsPort == null ? new Metrics(false, 0, metricsBind) : new Metrics(true, metricsPort, metricsBind),
          new Peering(peers, federationConnectTimeout, federationAnswerTimeout, federationRetryMax, outboxMaxMessages,
              outboxMaxAge != null ? outboxMaxAge
                  : retention.dividedBy(2).compareTo(Duration.ofDays(7)) < 0 ? retention.dividedBy(2) : Duration.ofDays(7),
              federationTlsTrust, peerMessagesPerSecond, peerMessagesBurst),
          storage, pluginSettings, configFile);
    }
  }
}
