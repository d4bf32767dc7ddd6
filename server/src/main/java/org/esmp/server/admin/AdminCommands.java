package org.esmp.server.admin;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.group.GroupLedger;
import org.esmp.api.group.GroupState;
import org.esmp.server.admin.AdminException.Kind;
import org.esmp.server.backup.BackupException;
import org.esmp.server.backup.BackupManifest;
import org.esmp.server.backup.BackupWriter;
import org.esmp.server.plugin.PluginCallException;
import org.esmp.server.plugin.PluginHost;
import org.esmp.server.plugin.PluginHost.PluginStatus;
import org.esmp.server.plugin.PluginRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Answers the requests of the administration channel ({@link AdminChannel}), one JSON object each:
 * {@code {"command":NAME, ...arguments}}, answered {@code {"ok":true,"result":{...}}} or
 * {@code {"ok":false,"error":KIND,"message":TEXT}} ({@link AdminException.Kind}).
 *
 * <table>
 *   <caption>Commands</caption>
 *   <tr><th>command</th><th>arguments</th><th>result</th></tr>
 *   <tr><td>{@code users.list}</td><td>{@code after?}, {@code limit?}</td>
 *       <td>{@code users}: {@code address}, {@code keys}, {@code state} ({@code active} or
 *       {@code disabled}), {@code since?}; {@code more}</td></tr>
 *   <tr><td>{@code users.removed}</td><td></td><td>{@code users}: {@code address}, {@code since}</td></tr>
 *   <tr><td>{@code users.add}</td><td>{@code address}, {@code key}</td><td>{@code changed}, {@code summary}</td></tr>
 *   <tr><td>{@code users.disable}, {@code users.enable}, {@code users.remove}</td><td>{@code address}</td>
 *       <td>{@code changed}, {@code summary}</td></tr>
 *   <tr><td>{@code groups.list}</td><td>{@code after?}, {@code limit?}</td><td>{@code groups}; {@code more}</td></tr>
 *   <tr><td>{@code groups.info}</td><td>{@code group_id}</td>
 *       <td>{@code group}: {@code group_id}, {@code name}, {@code policy}, {@code members}, {@code admins},
 *       {@code seq} (its thread's entries: posts and membership events)</td></tr>
 *   <tr><td>{@code plugins.list}</td><td></td>
 *       <td>{@code plugins}: {@code jar}, {@code id}, {@code version}, {@code state}, {@code storage}</td></tr>
 *   <tr><td>{@code backup}</td><td>{@code directory} (absolute)</td>
 *       <td>{@code directory}, {@code created_at}, {@code files}, {@code bytes}</td></tr>
 * </table>
 *
 * <p>Blocking: called on the channel's own threads, never a worker or an event loop. Groups are
 * read through the group ledger's plugin, on its threads and within its call timeout.
 * Thread-safe.
 */
public final class AdminCommands {

  private static final Logger log = LoggerFactory.getLogger(AdminCommands.class);

  /** Most entries one page of {@code users.list} or {@code groups.list} holds. */
  static final int MAX_PAGE = 1000;
  /** How long a change of an address may take to be committed. */
  private static final long CHANGE_SECONDS = 60;

  private final ObjectMapper json = new ObjectMapper();
  private final AddressAdmin users;
  private final PluginHost plugins;
  private final BackupWriter backups;

  public AdminCommands(AddressAdmin users, PluginHost plugins, BackupWriter backups) {
    this.users = users;
    this.plugins = plugins;
    this.backups = backups;
  }

  /** The answer to {@code request}; never throws. */
  public ObjectNode answer(JsonNode request) {
    String command = request == null ? "" : request.path("command").asText("");
    try {
      ObjectNode result = run(command, request);
      ObjectNode answer = json.createObjectNode().put("ok", true);
      answer.set("result", result);
      return answer;
    } catch (AdminException e) {
      return refusal(e.kind(), e.getMessage());
    } catch (BackupException e) {
      return refusal(Kind.FAILED, e.getMessage());
    } catch (Exception e) {
      log.warn("Administration: '{}' failed", command, e);
      return refusal(Kind.FAILED, command + " failed: " + e);
    }
  }

  /** The answer to a request that is not JSON, or too long. */
  public ObjectNode refusal(Kind kind, String message) {
    return json.createObjectNode().put("ok", false).put("error", kind.wire()).put("message", message);
  }

  private ObjectNode run(String command, JsonNode request) throws Exception {
    return switch (command) {
      case "users.list" -> usersList(request);
      case "users.removed" -> removedList();
      case "users.add" -> change(users.addKey(address(request), key(request)));
      case "users.disable" -> change(users.disable(address(request)));
      case "users.enable" -> change(users.enable(address(request)));
      case "users.remove" -> change(users.remove(address(request)));
      case "groups.list" -> groupsList(request);
      case "groups.info" -> groupInfo(request);
      case "plugins.list" -> pluginsList();
      case "backup" -> backup(request);
      default -> throw new AdminException(Kind.BAD_REQUEST, "no command '" + command + "'");
    };
  }

  private ObjectNode usersList(JsonNode request) {
    int limit = limit(request);
    List<AddressAdmin.User> page = users.list(request.path("after").asText(""), limit + 1);
    ObjectNode result = json.createObjectNode();
    ArrayNode list = result.putArray("users");
    for (AddressAdmin.User user : page.subList(0, Math.min(limit, page.size()))) {
      ObjectNode item = list.addObject().put("address", user.address().toString());
      ArrayNode keys = item.putArray("keys");
      user.keys().forEach(key -> keys.add(key.base64()));
      item.put("state", user.state().map(e -> e.state().word()).orElse("active"));
      user.state().ifPresent(e -> item.put("since", e.since()));
    }
    result.put("more", page.size() > limit);
    return result;
  }

  private ObjectNode removedList() {
    ObjectNode result = json.createObjectNode();
    ArrayNode list = result.putArray("users");
    for (AddressAdmin.User user : users.removed()) {
      list.addObject().put("address", user.address().toString()).put("since", user.state().orElseThrow().since());
    }
    return result;
  }

  private ObjectNode change(CompletionStage<AddressAdmin.Change> stage) throws Exception {
    AddressAdmin.Change change = await(stage, CHANGE_SECONDS);
    return json.createObjectNode().put("changed", change.changed()).put("summary", change.summary());
  }

  private ObjectNode groupsList(JsonNode request) throws Exception {
    int limit = limit(request);
    String after = request.path("after").asText("");
    List<GroupState> page = callLedger("groups", ledger -> ledger.groups(after, limit + 1));
    ObjectNode result = json.createObjectNode();
    ArrayNode list = result.putArray("groups");
    page.subList(0, Math.min(limit, page.size())).forEach(group -> group(list.addObject(), group));
    result.put("more", page.size() > limit);
    return result;
  }

  private ObjectNode groupInfo(JsonNode request) throws Exception {
    String groupId = text(request, "group_id");
    Optional<GroupState> group = callLedger("group", ledger -> ledger.group(groupId));
    if (group.isEmpty()) {
      throw new AdminException(Kind.NOT_FOUND, "no group " + groupId + " on this server");
    }
    ObjectNode result = json.createObjectNode();
    group(result.putObject("group"), group.get());
    return result;
  }

  private static void group(ObjectNode node, GroupState group) {
    node.put("group_id", group.groupId());
    if (group.name().isPresent()) {
      node.put("name", group.name().get());
    } else {
      node.putNull("name");
    }
    node.put("policy", group.policy().name().toLowerCase(java.util.Locale.ROOT));
    ArrayNode members = node.putArray("members");
    group.members().forEach(member -> members.add(member.toString()));
    ArrayNode admins = node.putArray("admins");
    group.admins().forEach(admin -> admins.add(admin.toString()));
    node.put("seq", group.lastSeq());
  }

  /** A read of the group ledger, through its plugin's calls: on its threads, within its timeout. */
  private <T> T callLedger(String what, java.util.function.Function<GroupLedger, T> read) throws Exception {
    List<PluginRegistry.Owned<GroupLedger>> ledgers = plugins.registry().owned(GroupLedger.class);
    if (ledgers.isEmpty()) {
      throw new AdminException(Kind.UNAVAILABLE, "no group plugin is running");
    }
    PluginRegistry.Owned<GroupLedger> ledger = ledgers.get(0);
    try {
      return ledger.calls().call(what, () -> read.apply(ledger.extension())).result().get();
    } catch (ExecutionException e) {
      Throwable cause = e.getCause();
      if (cause instanceof PluginCallException call && call.getCause() instanceof UnsupportedOperationException) {
        throw new AdminException(Kind.UNAVAILABLE, "plugin " + ledger.pluginId() + " cannot list its groups");
      }
      throw new AdminException(Kind.FAILED, "plugin " + ledger.pluginId() + ": " + cause.getMessage(), cause);
    }
  }

  private ObjectNode pluginsList() {
    ObjectNode result = json.createObjectNode();
    ArrayNode list = result.putArray("plugins");
    for (PluginStatus status : plugins.status()) {
      ObjectNode item = list.addObject().put("jar", status.jar());
      if (status.id().isPresent()) {
        item.put("id", status.id().get()).put("version", status.version().orElse(""));
      } else {
        item.putNull("id").putNull("version");
      }
      item.put("state", status.state().word()).put("storage", status.storage());
    }
    return result;
  }

  private ObjectNode backup(JsonNode request) throws Exception {
    Path directory = Path.of(text(request, "directory"));
    if (!directory.isAbsolute()) {
      throw new AdminException(Kind.BAD_REQUEST, "the backup directory must be an absolute path: " + directory);
    }
    BackupManifest manifest = backups.write(directory);
    return json.createObjectNode().put("directory", directory.toString())
        .put("created_at", manifest.createdAt().toString()).put("files", manifest.files().size())
        .put("bytes", manifest.totalBytes());
  }

  private static Address address(JsonNode request) {
    String text = text(request, "address");
    if (!Address.isValid(text)) {
      throw new AdminException(Kind.BAD_REQUEST, "'" + text + "' is not an address (local#domain, lowercase)");
    }
    return Address.parse(text);
  }

  private static Ed25519Key key(JsonNode request) {
    try {
      return Ed25519Key.fromBase64(text(request, "key"));
    } catch (IllegalArgumentException e) {
      throw new AdminException(Kind.BAD_REQUEST, "the key must be the standard padded base64 of 32 bytes");
    }
  }

  private static String text(JsonNode request, String name) {
    JsonNode value = request.get(name);
    if (value == null || !value.isTextual() || value.asText().isEmpty()) {
      throw new AdminException(Kind.BAD_REQUEST, "'" + name + "' is required, a string");
    }
    return value.asText();
  }

  private static int limit(JsonNode request) {
    JsonNode limit = request.get("limit");
    if (limit == null || limit.isNull()) {
      return MAX_PAGE;
    }
    if (!limit.canConvertToInt() || limit.intValue() < 1) {
      throw new AdminException(Kind.BAD_REQUEST, "'limit' must be a whole number, 1 or more");
    }
    return Math.min(limit.intValue(), MAX_PAGE);
  }

  private static <T> T await(CompletionStage<T> stage, long seconds) throws Exception {
    try {
      return stage.toCompletableFuture().get(seconds, TimeUnit.SECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof AdminException admin) {
        throw admin;
      }
      throw new AdminException(Kind.FAILED, "the change failed: " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new AdminException(Kind.FAILED, "the change was not committed within " + seconds + " s");
    }
  }
}
