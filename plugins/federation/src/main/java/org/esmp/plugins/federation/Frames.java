package org.esmp.plugins.federation;

import java.util.Optional;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.Reply;
import org.esmp.api.SignedMessage;
import org.esmp.api.federation.Federation;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;

/**
 * The frames this server sends to another domain's server, each signed with the server key
 * (ESMP/1 section 8): server {@code auth}, and {@code relay} as a delivery (one recipient, an
 * outbox entry) or as a forward ({@code to} empty, a message the peer answers). Every frame also
 * carries an empty {@code body}, which ESMP/1 section 2 requires of every signed frame.
 */
final class Frames {

  /** The member of an {@code auth} body that carries the TLS channel binding. */
  static final String CHANNEL_BINDING = "tls_server_end_point";

  private final Federation federation;

  Frames(Federation federation) {
    this.federation = federation;
  }

  /**
   * Authenticates this server as {@code server} to the peer that sent {@code hello}, bound to the
   * TLS connection by {@code binding} when there is one.
   */
  SignedMessage auth(String server, JsonObject hello, Optional<String> binding, long nowMillis) {
    JsonObject.Builder body = JsonObject.builder()
        .put("server", server)
        .put("challenge", hello.string("challenge").orElse(""))
        .put("domain", hello.string("domain").orElse(""));
    binding.ifPresent(b -> body.put(CHANNEL_BINDING, b));
    return federation.sign(JsonObject.builder()
        .put("type", "auth")
        .put("to", JsonArray.of())
        .put("body", body.build())
        .put("ts", nowMillis)
        .build());
  }

  /** Delivers outbox {@code entry} to {@code recipient}'s mailbox at the peer. */
  SignedMessage delivery(Address recipient, MailboxEntry entry, long nowMillis) {
    JsonObject.Builder frame = relay(JsonArray.ofStrings(java.util.List.of(recipient.toString())), entry.from(),
        entry.message(), nowMillis);
    entry.groupId().ifPresent(g -> frame.put("group_id", g));
    entry.seq().ifPresent(s -> frame.put("seq", s));
    return federation.sign(frame.build());
  }

  /** Forwards {@code message}, sent here by {@code from}, for the peer to process and answer. */
  SignedMessage forward(Address from, JsonObject message, long nowMillis) {
    return federation.sign(relay(JsonArray.of(), from, message, nowMillis).build());
  }

  /**
   * The peer's answer to a forward as the answer to the message forwarded: every member but {@code
   * type}, {@code re} and {@code duplicate}, which the server adds for its own sender.
   */
  static Reply reply(JsonObject answer) {
    JsonObject.Builder fields = answer.toBuilder().remove("type").remove("re");
    String type = answer.string("type").orElse("error");
    if (type.equals("ack")) {
      fields.remove("duplicate");
    }
    return new Reply(type, fields.build());
  }

  private static JsonObject.Builder relay(JsonArray to, Address from, JsonObject message, long nowMillis) {
    return JsonObject.builder()
        .put("type", "relay")
        .put("to", to)
        .put("from", from.toString())
        .put("message", message)
        .put("body", JsonObject.empty())
        .put("ts", nowMillis);
  }
}
