package org.esmp.plugins.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;

import org.esmp.api.Reply;
import org.esmp.api.json.JsonObject;
import org.junit.jupiter.api.Test;

class FramesTest {

  @Test
  void aForwardsAnswerIsTheAnswerWithoutWhatTheServerAddsItself() {
    Reply ack = Frames.reply(JsonObject.builder().put("type", "ack").put("re", "r").put("duplicate", false)
        .put("seq", 7).build());
    assertEquals(Reply.ack(JsonObject.builder().put("seq", 7).build()), ack);
    Reply error = Frames.reply(JsonObject.builder().put("type", "error").put("re", "r").put("code", "rate_limited")
        .put("message", "slow down").put("retry_after_ms", 200).build());
    assertEquals(Reply.rateLimited(200, "slow down"), error);
  }
}
