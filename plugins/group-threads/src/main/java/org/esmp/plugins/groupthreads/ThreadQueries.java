package org.esmp.plugins.groupthreads;

import static org.esmp.plugins.groupthreads.GroupThreads.DEFAULT_LIMIT;
import static org.esmp.plugins.groupthreads.GroupThreads.HISTORY_CHUNK;
import static org.esmp.plugins.groupthreads.GroupThreads.MAX_HISTORY_BYTES;
import static org.esmp.plugins.groupthreads.GroupThreads.MAX_LIMIT;
import static org.esmp.plugins.groupthreads.GroupThreads.memberOf;
import static org.esmp.plugins.groupthreads.GroupThreads.sender;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.TreeMap;
import java.util.function.Function;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.MailboxEntry;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.ServerContext;
import org.esmp.api.Store;
import org.esmp.api.Stored;
import org.esmp.api.group.GroupState;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;

/**
 * The session types of group threads, {@code history} and {@code group_info} (ESMP/1 section 6):
 * read-only answers for a group's members, from the committed state and thread entries. Stateless
 * and thread-safe; {@link GroupThreads} hands them over.
 */
final class ThreadQueries {

  private final ServerContext context;
  private final Function<String, Optional<GroupState>> groups;

  /** @param groups a group's committed state, from the ledger's cache or the storage */
  ThreadQueries(ServerContext context, Function<String, Optional<GroupState>> groups) {
    this.context = context;
    this.groups = groups;
  }

  private Optional<GroupState> group(String groupId) {
    return groups.apply(groupId);
  }

  private Store store() {
    return context.store();
  }

  /** {@code history}: body {@code {"before":SEQ?,"limit":N?}}; entries newest first. */
  Reply history(Request request) {
    String groupId = sessionGroupId(request);
    JsonObject body = request.message().body().asObject();
    if (body == null) {
      throw new RejectedException(ErrorCode.BAD_FIELD, "a history body is {\"before\":SEQ?,\"limit\":N?}");
    }
    OptionalLong before = optionalWholeNumber(body, "before", 1, "before must be a seq, 1 or more");
    OptionalLong limitField = optionalWholeNumber(body, "limit", 1, "limit must be a whole number, 1 or more");
    int limit = (int) Math.min(limitField.orElse(DEFAULT_LIMIT), MAX_LIMIT);
    GroupState state = memberOf(group(groupId), sender(request));

    // Seqs are gapless 1..lastSeq, so each window of keys is known exactly and is read in key
    // order: storages need not iterate backwards (MapDB's reverse iteration proved unreliable).
    long newest = before.isPresent() ? Math.min(before.getAsLong() - 1, state.lastSeq()) : state.lastSeq();
    Store store = store();
    JsonArray.Builder entries = JsonArray.builder();
    int taken = 0;
    long bytes = 0;
    long next = newest;
    boolean more = false;
    windows:
    while (next >= 1 && taken < limit) {
      long low = Math.max(1, next - Math.min(limit - taken, HISTORY_CHUNK) + 1);
      List<JsonObject> window = window(store, groupId, low, next);
      for (int i = window.size() - 1; i >= 0; i--) {
        JsonObject entry = window.get(i);
        int size = context.json().write(entry).length;
        if (taken > 0 && bytes + size > MAX_HISTORY_BYTES) {
          more = true; // this entry and older ones: on the next page
          break windows;
        }
        bytes += size;
        entries.add(entry);
        taken++;
      }
      next = low - 1;
    }
    more |= next >= 1;
    return Reply.result("history", JsonObject.builder()
        .put("group_id", groupId)
        .put("entries", entries.build())
        .put("more", more)
        .build());
  }

  /**
   * The thread entries {@code low} to {@code high} of {@code groupId}, oldest first: kept entries,
   * and for the seqs that have none, the whole entries stored as values before plugin API 1.1
   * (data directories from then are read as they are).
   */
  private List<JsonObject> window(Store store, String groupId, long low, long high) {
    String from = ThreadRecords.threadKey(groupId, low);
    String to = ThreadRecords.threadKey(groupId, high + 1);
    int size = (int) (high - low + 1);
    TreeMap<Long, JsonObject> found = new TreeMap<>();
    for (MailboxEntry entry : store.entries(ThreadRecords.THREAD, from, to, size)) {
      found.put(entry.seq().orElseThrow(), ThreadRecords.entry(entry));
    }
    if (found.size() < size) {
      for (Stored old : store.scan(ThreadRecords.THREAD, from, to, size)) {
        JsonObject entry = context.json().parseObject(old.value());
        found.putIfAbsent(((JsonNumber) entry.get("seq")).longValue(), entry);
      }
    }
    return List.copyOf(found.values());
  }

  /** {@code group_info}: the group's committed state, for its members. */
  Reply groupInfo(Request request) {
    String groupId = sessionGroupId(request);
    GroupState state = memberOf(group(groupId), sender(request));
    return Reply.result("group", JsonObject.builder()
        .put("group_id", groupId)
        .put("name", state.name().<JsonValue>map(JsonString::of).orElse(JsonNull.INSTANCE))
        .put("policy", ThreadRecords.policy(state.policy()))
        .put("members", ThreadRecords.addresses(state.members()))
        .put("admins", ThreadRecords.addresses(state.admins()))
        .put("seq", state.lastSeq())
        .build());
  }

  /**
   * The checks a session type makes before its body: an authenticated connection, signed by its
   * address, naming a group.
   */
  private static String sessionGroupId(Request request) {
    Address connection = request.session().address().orElseThrow(() -> new RejectedException(
        ErrorCode.AUTH_REQUIRED, request.message().type() + " needs auth on this connection"));
    if (!connection.equals(sender(request))) {
      throw new RejectedException(ErrorCode.FORBIDDEN,
          request.message().type() + " must be signed by a key of the connection's address");
    }
    return request.message().groupId().orElseThrow(
        () -> new RejectedException(ErrorCode.BAD_FIELD, request.message().type() + " needs a group_id"));
  }

  /** An optional whole-number member at least {@code min}; JSON {@code null} counts as absent. */
  private static OptionalLong optionalWholeNumber(JsonObject body, String name, long min, String problem) {
    JsonValue value = body.get(name);
    if (value == null || value == JsonNull.INSTANCE) {
      return OptionalLong.empty();
    }
    if (!(value instanceof JsonNumber number) || !number.isSafeInteger() || number.longValue() < min) {
      throw new RejectedException(ErrorCode.BAD_FIELD, problem);
    }
    return OptionalLong.of(number.longValue());
  }

}
