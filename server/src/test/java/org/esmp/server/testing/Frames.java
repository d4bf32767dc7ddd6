package org.esmp.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Collection;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.server.tls.ChannelBinding;

/** Builders for the unsigned messages tests send, the exchanges they repeat, and assertions on answers. */
public final class Frames {

  private static final AtomicLong UNIQUE = new AtomicLong();

  private Frames() {}

  /**
   * An {@code auth} for {@code address} answering {@code client}'s challenge, with its TLS channel
   * binding when it speaks TLS.
   */
  public static JsonObject auth(TestClient client, String address) {
    JsonObject.Builder body = JsonObject.builder()
        .put("address", address)
        .put("challenge", client.hello().path("challenge").asText())
        .put("domain", client.hello().path("domain").asText());
    if (client.tlsBinding() != null) {
      body.put(ChannelBinding.FIELD, client.tlsBinding());
    }
    return JsonObject.builder().put("type", "auth").put("to", JsonArray.of()).put("body", body.build())
        .put("ts", now()).build();
  }

  /** A {@code text} to {@code to}, with a unique ts so that equal texts are distinct messages. */
  public static JsonObject text(String body, String... to) {
    return JsonObject.builder().put("type", "text").put("to", JsonArray.ofStrings(List.of(to)))
        .put("body", JsonObject.builder().put("text", body).build())
        .put("ts", now()).build();
  }

  /** A message of {@code type} in group {@code group}. */
  public static JsonObject groupMessage(String type, String group, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("group_id", group)
        .put("body", body).put("ts", now()).build();
  }

  /** A {@code text} in group {@code group}. */
  public static JsonObject groupText(String group, String text) {
    return groupMessage("text", group, JsonObject.builder().put("text", text).build());
  }

  /** A session or key message of {@code type} with {@code body}. */
  public static JsonObject message(String type, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("body", body).put("ts", now()).build();
  }

  /**
   * A {@code key_add} of {@code newKey} to {@code address}, to be signed by {@code signer}, with the
   * proof {@code newKey} signs (ESMP/1 section 4).
   */
  public static JsonObject keyAdd(String address, TestIdentity signer, TestIdentity newKey) {
    return message("key_add", JsonObject.builder().put("pubkey", newKey.publicKey())
        .put("proof", newKey.signBytes(proofBytes(address, signer.publicKey()))).build());
  }

  /** What a {@code key_add}'s proof signs: {@code "esmp-key-add\n" + address + "\n" + signer}. */
  public static byte[] proofBytes(String address, String signerBase64) {
    return ("esmp-key-add\n" + address + "\n" + signerBase64).getBytes(java.nio.charset.StandardCharsets.UTF_8);
  }

  /** A {@code key_revoke} of {@code pubkey}. */
  public static JsonObject keyRevoke(String pubkey) {
    return message("key_revoke", JsonObject.builder().put("pubkey", pubkey).build());
  }

  /** {@code sync} from {@code since}. */
  public static JsonObject sync(long since) {
    return message("sync", JsonObject.builder().put("since", since).build());
  }

  /** A current ts, distinct on each call. */
  public static long now() {
    // Within the allowed skew, and never the same twice in a run: identical texts stay distinct.
    return System.currentTimeMillis() + UNIQUE.incrementAndGet() % 100_000;
  }

  /** Authenticates {@code me} as {@code address} on {@code client}; returns the ack. */
  public static JsonNode authenticate(TestClient client, TestIdentity me, String address) throws Exception {
    JsonNode answer = client.call(me.frame(auth(client, address)));
    assertEquals("ack", answer.path("type").asText(), answer.toString());
    return answer;
  }

  /** Syncs {@code me} from {@code since} on {@code client}: the {@code deliver} frames, then the answer last. */
  public static List<JsonNode> syncAll(TestClient client, TestIdentity me, long since) throws Exception {
    client.send(me.frame(sync(since)));
    List<JsonNode> frames = new ArrayList<>();
    while (true) {
      JsonNode frame = client.read();
      frames.add(frame);
      if (!frame.path("type").asText().equals("deliver")) {
        return frames;
      }
    }
  }

  /** The ids of the messages {@code me}'s mailbox holds, in the order a sync from 0 delivers them. */
  public static List<String> mailboxIds(TestClient client, TestIdentity me) throws Exception {
    List<JsonNode> frames = syncAll(client, me, 0);
    return frames.subList(0, frames.size() - 1).stream().map(frame -> frame.path("id").asText()).toList();
  }

  /** Asserts no id is in {@code delivered} twice, and every one of {@code acked} is there. */
  public static void assertEachAckedOnce(List<String> delivered, Collection<String> acked) {
    Set<String> distinct = new HashSet<>(delivered);
    assertEquals(delivered.size(), distinct.size(), "no message is in the mailbox twice");
    Set<String> lost = acked.stream().filter(id -> !distinct.contains(id)).collect(Collectors.toSet());
    assertTrue(lost.isEmpty(), lost.size() + " of " + acked.size() + " acked messages were lost");
  }

  /** Asserts {@code answer} is an error with {@code code}. */
  public static void assertError(JsonNode answer, String code) {
    assertEquals("error", answer.path("type").asText(), answer.toString());
    assertEquals(code, answer.path("code").asText(), answer.toString());
  }

  /** Asserts {@code answer} is an ack. */
  public static JsonNode assertAck(JsonNode answer) {
    assertEquals("ack", answer.path("type").asText(), answer.toString());
    return answer;
  }
}
