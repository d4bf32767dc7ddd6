package org.esmp.server.testing;

import static org.junit.jupiter.api.Assertions.assertEquals;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.List;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;

/** Builders for the unsigned messages tests send, and assertions on answers. */
public final class Frames {

  private static final AtomicLong UNIQUE = new AtomicLong();

  private Frames() {}

  /** An {@code auth} for {@code address} answering {@code client}'s challenge. */
  public static JsonObject auth(TestClient client, String address) {
    return JsonObject.builder().put("type", "auth").put("to", JsonArray.of())
        .put("body", JsonObject.builder()
            .put("address", address)
            .put("challenge", client.hello().path("challenge").asText())
            .put("domain", client.hello().path("domain").asText()).build())
        .put("ts", now()).build();
  }

  /** A {@code text} to {@code to}, with a unique ts so that equal texts are distinct messages. */
  public static JsonObject text(String body, String... to) {
    return JsonObject.builder().put("type", "text").put("to", JsonArray.ofStrings(List.of(to)))
        .put("body", JsonObject.builder().put("text", body).build())
        .put("ts", now()).build();
  }

  /** A session or key message of {@code type} with {@code body}. */
  public static JsonObject message(String type, JsonObject body) {
    return JsonObject.builder().put("type", type).put("to", JsonArray.of()).put("body", body).put("ts", now()).build();
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
