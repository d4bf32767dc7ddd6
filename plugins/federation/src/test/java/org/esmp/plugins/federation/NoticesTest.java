package org.esmp.plugins.federation;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.util.Optional;
import org.esmp.api.Address;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.Writes;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.api.testkit.InMemoryStorage;
import org.esmp.api.testkit.TestContext;
import org.esmp.api.testkit.TestFederation;
import org.junit.jupiter.api.Test;

class NoticesTest {

  private static final Address ALICE = Address.parse("alice#a.example");
  private static final Address BOB = Address.parse("bob#b.example");
  private static final MessageId ID = new MessageId("c".repeat(64));

  private final InMemoryStorage storage = new InMemoryStorage();
  private final TestFederation federation = TestFederation.builder(storage).build();
  private final TestContext context = TestContext.builder("federation").domains("a.example", "a2.example")
      .storage(storage).federation(federation).build();
  private final Notices notices = new Notices(context);

  private static MailboxEntry from(Address sender) {
    return MailboxEntry.direct(ID, sender, 1_000, JsonObject.builder().put("type", "text").build());
  }

  @Test
  void tellsTheSenderFromPostmasterSignedWithTheServerKey() {
    context.register(ALICE);
    Writes.Append append = notices.failed(from(ALICE), BOB, "bad_signature", 1_764_000_000_000L).orElseThrow();

    assertEquals(ALICE, append.address());
    JsonObject message = append.entry().message();
    assertEquals(JsonObject.builder()
        .put("type", "delivery_failed")
        .put("to", JsonArray.ofStrings(java.util.List.of(ALICE.toString())))
        .put("from", "postmaster#a.example")
        .put("body", JsonObject.builder().put("id", ID.hex()).put("recipient", BOB.toString())
            .put("code", "bad_signature").build())
        .put("ts", 1_764_000_000_000L)
        .build(), message.toBuilder().remove("signature").remove("sender_pubkey").build());
    assertEquals(federation.serverKey().base64(), message.string("sender_pubkey").orElseThrow());
    assertTrue(federation.verifies(message));
    assertEquals(federation.idOf(message), append.entry().id());
    assertEquals(Address.parse("postmaster#a.example"), append.entry().from());
    assertEquals(1_764_000_000_000L, append.entry().receivedAt());
  }

  @Test
  void aSenderOfAnotherDomainOrNoLongerHereGetsNone() {
    assertEquals(Optional.empty(), notices.failed(from(Address.parse("carol#c.example")), BOB, "forbidden", 1));
    assertEquals(Optional.empty(), notices.failed(from(Address.parse("dave#a2.example")), BOB, "forbidden", 1),
        "served here, but no such address");
  }
}
