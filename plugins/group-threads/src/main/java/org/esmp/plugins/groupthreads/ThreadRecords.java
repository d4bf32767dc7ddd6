package org.esmp.plugins.groupthreads;

import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;
import org.esmp.api.Address;
import org.esmp.api.JsonCodec;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.group.GroupState;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;

/**
 * How group states and thread entries are kept in the storage's plugin spaces, and shown to clients.
 *
 * <p>Space {@value #GROUPS}: key = group id, value = the state as JSON. Space {@value #THREAD}: key =
 * group id, {@code '/'}, then the {@code seq} as {@value #SEQ_DIGITS} zero-padded digits, so that
 * string order is seq order within a group and a group's entries form one key range ({@code '/'}
 * is not a group id character); the entry, kept ({@link org.esmp.api.Writes.Keep}: its message is
 * stored once with the members' mailbox entries). Before plugin API 1.1 the entry was a value, as
 * a {@code deliver} frame shows it without {@code type} and {@code cursor}; such values are still
 * read. Stateless.
 */
final class ThreadRecords {

  /** The space of group states. */
  static final String GROUPS = "group-threads.groups";
  /** The space of thread entries. */
  static final String THREAD = "group-threads.thread";
  /** Enough for every seq up to 2^53 − 1, the largest JSON integer a client can name. */
  static final int SEQ_DIGITS = 16;

  private ThreadRecords() {}

  /** The key of entry {@code seq} of {@code groupId}'s thread. */
  static String threadKey(String groupId, long seq) {
    String digits = Long.toString(seq);
    return groupId + '/' + "0".repeat(Math.max(0, SEQ_DIGITS - digits.length())) + digits;
  }

  /** A key above every entry key of {@code groupId} and below any other group's: {@code '0'} follows {@code '/'}. */
  static String threadEnd(String groupId) {
    return groupId + '0';
  }

  /** A thread entry: {@code id, from, received_at, group_id, seq, message}, as in {@code history}. */
  static JsonObject entry(MailboxEntry entry) {
    return JsonObject.builder()
        .put("id", entry.id().hex())
        .put("from", entry.from().toString())
        .put("received_at", entry.receivedAt())
        .put("group_id", entry.groupId().orElseThrow())
        .put("seq", entry.seq().orElseThrow())
        .put("message", entry.message())
        .build();
  }

  /** The stored form of {@code state}, the state the entry {@code lastId} at its {@code last_seq} left. */
  static byte[] writeState(JsonCodec json, GroupState state, MessageId lastId) {
    return json.write(JsonObject.builder()
        .put("group_id", state.groupId())
        .put("name", state.name().<JsonValue>map(JsonString::of).orElse(JsonNull.INSTANCE))
        .put("policy", policy(state.policy()))
        .put("members", addresses(state.members()))
        .put("admins", addresses(state.admins()))
        .put("last_seq", state.lastSeq())
        // Not part of the state: makes the bytes of each seq's state its own, so that a commit
        // built on one writer's entry at a seq fails its condition when another's is there, even
        // if both left the members as they were.
        .put("last_id", lastId.hex())
        .build());
  }

  /**
   * Reads a stored state.
   *
   * @throws IllegalStateException when the stored value is damaged
   */
  static GroupState readState(JsonCodec json, byte[] stored) {
    try {
      JsonObject o = json.parseObject(stored);
      Optional<String> name = o.string("name");
      GroupState.Policy policy = GroupState.Policy.valueOf(o.string("policy").orElseThrow().toUpperCase(Locale.ROOT));
      JsonNumber lastSeq = (JsonNumber) o.get("last_seq");
      return new GroupState(o.string("group_id").orElseThrow(), name, policy, addresses(o.get("members")),
          addresses(o.get("admins")), lastSeq.longValue());
    } catch (RuntimeException e) {
      throw new IllegalStateException("damaged group state in space " + GROUPS, e);
    }
  }

  /** {@code "invite"} or {@code "open"}. */
  static String policy(GroupState.Policy policy) {
    return policy.name().toLowerCase(Locale.ROOT);
  }

  /** Addresses as a JSON array of their wire forms. */
  static JsonArray addresses(List<Address> addresses) {
    List<String> wire = new ArrayList<>(addresses.size());
    for (Address address : addresses) {
      wire.add(address.toString());
    }
    return JsonArray.ofStrings(wire);
  }

  private static List<Address> addresses(JsonValue array) {
    List<Address> addresses = new ArrayList<>();
    for (JsonValue item : array.asArray()) {
      addresses.add(Address.parse(item.asString()));
    }
    return addresses;
  }
}
