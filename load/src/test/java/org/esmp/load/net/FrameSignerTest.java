package org.esmp.load.net;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import java.util.List;
import org.esmp.client.Messages;
import org.junit.jupiter.api.Test;

class FrameSignerTest {

  private static final ObjectMapper JSON = new ObjectMapper();
  private final FrameSigner signer = new FrameSigner();
  private final LoadIdentity alice = LoadIdentity.generate("load-abc-d0#example.com");

  @Test
  void padsATextToTheFrameSizeAskedFor() throws Exception {
    for (long n : new long[] {0, 7, 123_456_789}) {
      SignedFrame frame = signer.text(alice, "load-abc-d1#example.com", n, 300, 1_700_000_000_000L);

      assertEquals(300, frame.line().length, "with its newline");
      assertEquals('\n', frame.line()[299]);
    }
  }

  @Test
  void signsSoThatTheSignatureVerifiesAndTheIdIsTheMessageId() throws Exception {
    SignedFrame frame = signer.groupPost(alice, "load-abc-group", 3, 61_440, 1_700_000_000_000L);
    JsonNode message = JSON.readTree(frame.line());

    assertEquals(frame.id(), Messages.verify(message));
    assertEquals("load-abc-group", message.get("group_id").asText());
    assertEquals(61_440, frame.line().length);
  }

  @Test
  void aFrameSizeTooSmallLeavesTheMessageUnpadded() throws Exception {
    SignedFrame frame = signer.text(alice, "load-abc-d1#example.com", 1, 10, 1_700_000_000_000L);

    assertTrue(frame.line().length > 10);
    Messages.verify(JSON.readTree(frame.line()));
  }

  @Test
  void authEchoesTheChallengeAndTheHelloDomain() throws Exception {
    JsonNode auth = JSON.readTree(signer.auth(alice, "Y2hhbGxlbmdl", "example.com", null).line());

    assertEquals("auth", auth.get("type").asText());
    assertEquals("load-abc-d0#example.com", auth.at("/body/address").asText());
    assertEquals("Y2hhbGxlbmdl", auth.at("/body/challenge").asText());
    assertEquals("example.com", auth.at("/body/domain").asText());
  }

  @Test
  void groupCreatedListsTheMembers() throws Exception {
    JsonNode created = JSON.readTree(signer.groupCreated(alice, "g1", List.of("b#example.com", "c#example.com"),
        1L).line());

    assertEquals("group_created", created.get("type").asText());
    assertEquals(2, created.at("/body/members").size());
    Messages.verify(created);
  }
}
