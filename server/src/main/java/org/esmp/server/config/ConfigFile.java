package org.esmp.server.config;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.dataformat.yaml.YAMLMapper;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Iterator;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads {@code esmp.yaml} onto a {@link ServerConfig.Builder}. Every key is optional; an unknown key
 * or a value of the wrong kind is a {@link ConfigException} naming the file and the key, so a typo
 * never silently falls back to a default.
 */
public final class ConfigFile {

  /** The keys an {@code esmp.yaml} may hold. */
  public static final Set<String> KEYS =
      Set.of(
          "port", "bind", "domain", "domains", "data_dir", "plugins_dir", "max_frame", "max_depth",
          "ts_skew_seconds", "registration", "ping_interval_seconds", "verify_threads",
          "max_recipients", "retention_days", "plugin_timeout_seconds",
          "plugin_answer_timeout_seconds", "max_keys_per_address", "reserved_names", "max_group_members",
          "max_connections", "max_connections_per_ip", "first_message_seconds", "line_seconds",
          "idle_unsynced_seconds",
          "ip_frames_per_second", "ip_frames_burst", "ip_bytes_per_second", "ip_bytes_burst",
          "address_messages_per_second", "address_messages_burst", "registrations_per_ip_per_hour",
          "key_changes_per_address_per_hour", "max_connections_per_address", "output_connection_bytes",
          "output_total_bytes", "output_grace_seconds", "input_total_bytes",
          // TLS (ServerConfig.Tls).
          "tls_cert", "tls_key", "require_tls", "tls_reload_seconds", "tls_detect_millis",
          // The metrics port (ServerConfig.Metrics).
          "metrics_port", "metrics_bind",
          // Federation (ServerConfig.Peering).
          "peers", "federation_connect_seconds", "federation_answer_seconds", "federation_retry_max_seconds",
          "outbox_max_messages", "outbox_max_age_hours", "federation_tls_trust", "peer_messages_per_second",
          "peer_messages_burst",
          // The storage, and plugins' own settings.
          "storage", "plugin_settings", "jdbc_url", "db_user", "db_password_file", "db_pool_size");

  /** System property naming the installation folder; bin/esmp-server and bin/esmp-admin set it. */
  public static final String HOME_PROPERTY = "esmp.home";

  private ConfigFile() {}

  /**
   * The start of every command's configuration: the embedded defaults of an installation in {@code
   * home} (its {@code data/} and {@code plugins/}; null: the current directory's), then the
   * settings of {@code file}, or of {@code <home>/conf/esmp.yaml} when no file is given and that
   * exists. The server and {@code esmp-admin} find the same data directory this way.
   */
  public static ServerConfig.Builder installation(String home, Path file) {
    ServerConfig.Builder builder = ServerConfig.builder();
    Path base = Path.of(home != null ? home : "").toAbsolutePath().normalize();
    builder.dataDir(base.resolve("data")).pluginsDir(base.resolve("plugins"));
    Path settings = file;
    if (settings == null && home != null && Files.isRegularFile(base.resolve("conf/esmp.yaml"))) {
      settings = base.resolve("conf/esmp.yaml");
    }
    if (settings != null) {
      apply(settings, builder, base);
    }
    return builder;
  }

  /**
   * Applies the settings of {@code file} to {@code builder}, and records the file there for the
   * startup line. A relative {@code data_dir}, {@code plugins_dir}, {@code tls_cert} or {@code
   * tls_key} resolves against {@code base}
   * (the installation directory), so that the server finds the same directories whatever directory
   * it is started from.
   */
  public static void apply(Path file, ServerConfig.Builder builder, Path base) {
    JsonNode root;
    try {
      root = new YAMLMapper().readTree(Files.readAllBytes(file));
    } catch (NoSuchFileException e) {
      throw new ConfigException(file + ": no such file");
    } catch (IOException e) {
      throw new ConfigException(file + ": not valid YAML: " + firstLine(e.getMessage()));
    }
    builder.configFile(file.toAbsolutePath().normalize());
    if (root == null || root.isMissingNode() || root.isNull()) {
      return; // an empty file, or only comments: all defaults
    }
    if (!root.isObject()) {
      throw new ConfigException(file + ": expected key: value settings at the top level");
    }
    for (Iterator<Map.Entry<String, JsonNode>> it = root.fields(); it.hasNext(); ) {
      Map.Entry<String, JsonNode> entry = it.next();
      String key = entry.getKey();
      JsonNode value = entry.getValue();
      if (value.isNull()) {
        continue; // "key:" with nothing after it keeps the default
      }
      String where = file + ": " + key;
      switch (key) {
        case "port" -> builder.port(integer(where, value));
        case "bind" -> builder.bind(text(where, value));
        case "domain" -> builder.domain(text(where, value));
        case "domains" -> builder.domains(textList(where, value));
        case "data_dir" -> builder.dataDir(base.resolve(text(where, value)));
        case "plugins_dir" -> builder.pluginsDir(base.resolve(text(where, value)));
        case "max_frame" -> builder.maxFrame(integer(where, value));
        case "max_depth" -> builder.maxDepth(integer(where, value));
        case "ts_skew_seconds" -> builder.tsSkew(Duration.ofSeconds(integer(where, value)));
        case "registration" -> builder.registration(registration(where, value));
        case "ping_interval_seconds" -> builder.pingInterval(Duration.ofSeconds(integer(where, value)));
        case "verify_threads" -> builder.verifyThreads(integer(where, value));
        case "max_recipients" -> builder.maxRecipients(integer(where, value));
        case "retention_days" -> builder.retention(Duration.ofDays(integer(where, value)));
        case "plugin_timeout_seconds" -> builder.pluginTimeout(Duration.ofSeconds(integer(where, value)));
        case "plugin_answer_timeout_seconds" ->
            builder.pluginAnswerTimeout(Duration.ofSeconds(integer(where, value)));
        case "max_keys_per_address" -> builder.maxKeysPerAddress(integer(where, value));
        case "reserved_names" -> builder.reservedNames(textList(where, value));
        case "max_group_members" -> builder.maxGroupMembers(integer(where, value));
        case "max_connections" -> builder.maxConnections(integer(where, value));
        case "max_connections_per_ip" -> builder.maxConnectionsPerIp(integer(where, value));
        case "first_message_seconds" -> builder.firstMessageTimeout(Duration.ofSeconds(integer(where, value)));
        case "line_seconds" -> builder.lineTimeout(Duration.ofSeconds(integer(where, value)));
        case "idle_unsynced_seconds" -> builder.idleUnsyncedTimeout(Duration.ofSeconds(integer(where, value)));
        case "ip_frames_per_second" -> builder.ipFramesPerSecond(integer(where, value));
        case "ip_frames_burst" -> builder.ipFramesBurst(integer(where, value));
        case "ip_bytes_per_second" -> builder.ipBytesPerSecond(integer(where, value));
        case "ip_bytes_burst" -> builder.ipBytesBurst(integer(where, value));
        case "address_messages_per_second" -> builder.addressMessagesPerSecond(integer(where, value));
        case "address_messages_burst" -> builder.addressMessagesBurst(integer(where, value));
        case "registrations_per_ip_per_hour" -> builder.registrationsPerIpPerHour(integer(where, value));
        case "key_changes_per_address_per_hour" -> builder.keyChangesPerAddressPerHour(integer(where, value));
        case "max_connections_per_address" -> builder.maxConnectionsPerAddress(integer(where, value));
        case "output_connection_bytes" -> builder.outputConnectionBytes(wholeLong(where, value));
        case "output_total_bytes" -> builder.outputTotalBytes(wholeLong(where, value));
        case "output_grace_seconds" -> builder.outputGrace(Duration.ofSeconds(integer(where, value)));
        case "input_total_bytes" -> builder.inputTotalBytes(wholeLong(where, value));
        case "tls_cert" -> builder.tlsCert(base.resolve(text(where, value)));
        case "tls_key" -> builder.tlsKey(base.resolve(text(where, value)));
        case "require_tls" -> builder.requireTls(bool(where, value));
        case "tls_reload_seconds" -> builder.tlsReloadInterval(Duration.ofSeconds(integer(where, value)));
        case "tls_detect_millis" -> builder.tlsDetectTimeout(Duration.ofMillis(integer(where, value)));
        case "metrics_port" -> builder.metricsPort(integer(where, value));
        case "metrics_bind" -> builder.metricsBind(text(where, value));
        case "peers" -> peers(where, value).forEach(builder::peer);
        case "federation_connect_seconds" -> builder.federationConnectTimeout(Duration.ofSeconds(integer(where, value)));
        case "federation_answer_seconds" -> builder.federationAnswerTimeout(Duration.ofSeconds(integer(where, value)));
        case "federation_retry_max_seconds" -> builder.federationRetryMax(Duration.ofSeconds(integer(where, value)));
        case "outbox_max_messages" -> builder.outboxMaxMessages(integer(where, value));
        case "outbox_max_age_hours" -> builder.outboxMaxAge(Duration.ofHours(integer(where, value)));
        case "federation_tls_trust" -> builder.federationTlsTrust(base.resolve(text(where, value)));
        case "peer_messages_per_second" -> builder.peerMessagesPerSecond(integer(where, value));
        case "peer_messages_burst" -> builder.peerMessagesBurst(integer(where, value));
        case "storage" -> builder.storage(text(where, value));
        case "plugin_settings" -> pluginSettings(where, value, builder);
        case "jdbc_url" -> builder.pluginSetting(ServerConfig.POSTGRES_PLUGIN, "jdbc_url", text(where, value));
        case "db_user" -> builder.pluginSetting(ServerConfig.POSTGRES_PLUGIN, "user", text(where, value));
        case "db_password_file" ->
            builder.pluginSetting(ServerConfig.POSTGRES_PLUGIN, "password_file", base.resolve(text(where, value)).toString());
        case "db_pool_size" ->
            builder.pluginSetting(ServerConfig.POSTGRES_PLUGIN, "pool_size", Integer.toString(integer(where, value)));
        default -> throw new ConfigException(
            file + ": unknown setting '" + key + "' (known: " + String.join(", ", sorted(KEYS)) + ")");
      }
    }
  }

  /** Parses {@code open} or {@code closed}. */
  public static ServerConfig.Registration registration(String where, String text) {
    return switch (text.toLowerCase(Locale.ROOT)) {
      case "open" -> ServerConfig.Registration.OPEN;
      case "closed" -> ServerConfig.Registration.CLOSED;
      default -> throw new ConfigException(where + " must be 'open' or 'closed', got '" + text + "'");
    };
  }

  private static ServerConfig.Registration registration(String where, JsonNode value) {
    return registration(where, text(where, value));
  }

  private static int integer(String where, JsonNode value) {
    if (!value.canConvertToInt() || !value.isIntegralNumber()) {
      throw new ConfigException(where + " must be a whole number, got '" + value.asText() + "'");
    }
    return value.intValue();
  }

  private static boolean bool(String where, JsonNode value) {
    if (!value.isBoolean()) {
      throw new ConfigException(where + " must be true or false, got '" + value.asText() + "'");
    }
    return value.booleanValue();
  }

  private static long wholeLong(String where, JsonNode value) {
    if (!value.canConvertToLong() || !value.isIntegralNumber()) {
      throw new ConfigException(where + " must be a whole number, got '" + value.asText() + "'");
    }
    return value.longValue();
  }

  private static String text(String where, JsonNode value) {
    if (!value.isValueNode() || value.asText().isEmpty()) {
      throw new ConfigException(where + " must be a non-empty value");
    }
    return value.asText();
  }

  private static List<String> textList(String where, JsonNode value) {
    if (!value.isArray()) {
      throw new ConfigException(where + " must be a list, e.g. [a.example, b.example]");
    }
    List<String> items = new ArrayList<>();
    for (JsonNode item : value) {
      items.add(text(where, item));
    }
    return items;
  }

  /**
   * {@code plugin_settings}: for each plugin id, a map of its settings, each a single value (kept
   * as text).
   */
  private static void pluginSettings(String where, JsonNode value, ServerConfig.Builder builder) {
    if (!value.isObject()) {
      throw new ConfigException(where + " must map plugin ids to their settings, e.g. {my-plugin: {key: value}}");
    }
    for (var plugins = value.fields(); plugins.hasNext(); ) {
      var plugin = plugins.next();
      if (!plugin.getValue().isObject()) {
        throw new ConfigException(where + "." + plugin.getKey() + " must be a map of settings");
      }
      for (var settings = plugin.getValue().fields(); settings.hasNext(); ) {
        var setting = settings.next();
        builder.pluginSetting(plugin.getKey(), setting.getKey(),
            text(where + "." + plugin.getKey() + "." + setting.getKey(), setting.getValue()));
      }
    }
  }

  /**
   * {@code peers}: a list of {@code {domain, host, port, key?}}, {@code key} the peer's server key
   * (a pin).
   */
  private static List<ServerConfig.Peer> peers(String where, JsonNode value) {
    if (!value.isArray()) {
      throw new ConfigException(where + " must be a list of {domain, host, port, key}");
    }
    List<ServerConfig.Peer> peers = new ArrayList<>();
    for (JsonNode item : value) {
      if (!item.isObject()) {
        throw new ConfigException(where + " must be a list of {domain, host, port, key}, got '" + item + "'");
      }
      for (var names = item.fieldNames(); names.hasNext(); ) {
        String name = names.next();
        if (!Set.of("domain", "host", "port", "key").contains(name)) {
          throw new ConfigException(where + ": unknown setting '" + name + "' of a peer (known: domain, host, port, key)");
        }
      }
      String domain = item.has("domain") ? text(where + ".domain", item.get("domain")) : null;
      if (domain == null || !item.has("host") || !item.has("port")) {
        throw new ConfigException(where + ": every peer needs domain, host and port");
      }
      if (peers.stream().anyMatch(p -> p.domain().equals(domain))) {
        throw new ConfigException(where + ": " + domain + " is configured twice");
      }
      peers.add(new ServerConfig.Peer(domain, text(where + " " + domain + ".host", item.get("host")),
          integer(where + " " + domain + ".port", item.get("port")),
          item.has("key") ? Optional.of(ServerConfig.Peer.key(domain, text(where + " " + domain + ".key", item.get("key"))))
              : Optional.empty()));
    }
    return peers;
  }

  private static List<String> sorted(Set<String> keys) {
    List<String> list = new ArrayList<>(keys);
    list.sort(null);
    return list;
  }

  private static String firstLine(String message) {
    if (message == null) {
      return "unreadable";
    }
    int newline = message.indexOf('\n');
    return newline < 0 ? message : message.substring(0, newline);
  }
}
