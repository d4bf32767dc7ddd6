package org.esmp.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.util.ArrayList;
import java.util.Collection;
import java.util.List;
import java.util.UUID;

/**
 * The group operations of {@link EsmpClient} (ESMP-1 §6): each builds its message, has it signed,
 * sent and answered by the {@link Caller}, and reads the answer. Holds no state: thread-safe
 * when its caller is, and every method blocks as long as the caller does.
 */
final class Groups {

  /** Signs {@code message}, sends it and waits for its answer (an {@code error} is thrown). */
  interface Caller {
    ObjectNode call(ObjectNode message) throws IOException;
  }

  private final Caller caller;

  Groups(Caller caller) {
    this.caller = caller;
  }

  /** {@code group_created} under a fresh UUID, which it returns. */
  String create(String name, Collection<String> members, boolean open) throws IOException {
    String groupId = UUID.randomUUID().toString();
    ObjectNode message = Frames.newGroupMessage("group_created", groupId);
    ObjectNode body = message.putObject("body");
    if (name != null) {
      body.put("name", name);
    }
    Frames.addresses(body.putArray("members"), members);
    body.put("policy", open ? "open" : "invite");
    EsmpClient.Ack.of(caller.call(message));
    return groupId;
  }

  /** {@code joined} naming {@code member}. */
  EsmpClient.Ack add(String groupId, String member) throws IOException {
    ObjectNode message = Frames.newGroupMessage("joined", groupId);
    message.putObject("body").put("member", Addresses.check(member));
    return EsmpClient.Ack.of(caller.call(message));
  }

  /** {@code removed} naming {@code member}. */
  EsmpClient.Ack remove(String groupId, String member) throws IOException {
    ObjectNode message = Frames.newGroupMessage("removed", groupId);
    message.putObject("body").put("member", Addresses.check(member));
    return EsmpClient.Ack.of(caller.call(message));
  }

  /** {@code left}, with an empty body. */
  EsmpClient.Ack leave(String groupId) throws IOException {
    ObjectNode message = Frames.newGroupMessage("left", groupId);
    message.putObject("body");
    return EsmpClient.Ack.of(caller.call(message));
  }

  /** A {@code text} into the group's thread. */
  EsmpClient.Ack post(String groupId, String text) throws IOException {
    ObjectNode message = Frames.newGroupMessage("text", groupId);
    message.putObject("body").put("text", text);
    return EsmpClient.Ack.of(caller.call(message));
  }

  /**
   * {@code history}, every entry verified.
   *
   * @throws InvalidMessageException if an entry does not verify
   */
  EsmpClient.History history(String groupId, Long before, Integer limit) throws IOException {
    ObjectNode message = Frames.newGroupMessage("history", groupId);
    ObjectNode body = message.putObject("body");
    if (before != null) {
      body.put("before", before);
    }
    if (limit != null) {
      body.put("limit", limit);
    }
    ObjectNode answer = caller.call(message);
    List<Delivery> entries = new ArrayList<>();
    for (JsonNode entry : answer.path("entries")) {
      entries.add(Delivery.verified(entry));
    }
    return new EsmpClient.History(groupId, List.copyOf(entries), answer.path("more").asBoolean());
  }

  /** {@code group_info}, with an empty body. */
  EsmpClient.GroupInfo info(String groupId) throws IOException {
    ObjectNode message = Frames.newGroupMessage("group_info", groupId);
    message.putObject("body");
    ObjectNode answer = caller.call(message);
    return new EsmpClient.GroupInfo(groupId, answer.path("name").textValue(),
        answer.path("policy").asText(), Frames.strings(answer.path("members")),
        Frames.strings(answer.path("admins")), answer.path("seq").asLong(), Frames.compact(answer));
  }
}
