package org.esmp.server;

import static org.esmp.server.testing.Frames.assertAck;
import static org.esmp.server.testing.Frames.assertError;
import static org.esmp.server.testing.Frames.auth;
import static org.esmp.server.testing.Frames.authenticate;
import static org.esmp.server.testing.Frames.keyAdd;
import static org.esmp.server.testing.Frames.keyRevoke;
import static org.esmp.server.testing.Frames.message;
import static org.esmp.server.testing.Frames.proofBytes;
import static org.esmp.server.testing.Frames.text;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import com.fasterxml.jackson.databind.JsonNode;
import java.util.ArrayList;
import java.util.Base64;
import java.util.HexFormat;
import java.util.List;
import org.esmp.api.json.JsonObject;
import org.esmp.server.testing.SharedServerTest;
import org.esmp.server.testing.TestClient;
import org.esmp.server.testing.TestIdentity;
import org.esmp.server.testing.TestUser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

/**
 * The identity rules of ESMP/1 section 4 that resist abuse, over TCP against the real server with
 * its default configuration: {@code key_add} needs the new key's proof of possession, only the
 * primary key revokes others, an address has at most 16 keys, and reserved names are not
 * registered.
 */
class KeysIT extends SharedServerTest {

  private static final HexFormat HEX = HexFormat.of();

  private static TestUser user(String name) throws Exception {
    return TestUser.register(server.port(), name);
  }

  private static JsonObject keyAddWith(String pubkey, String proof) {
    JsonObject.Builder body = JsonObject.builder().put("pubkey", pubkey);
    if (proof != null) {
      body.put("proof", proof);
    }
    return message("key_add", body.build());
  }

  private static List<String> keysOf(TestUser asker, String address) throws Exception {
    JsonNode answer = asker.send(message("lookup", JsonObject.builder().put("address", address).build()));
    List<String> keys = new ArrayList<>();
    answer.path("keys").forEach(key -> keys.add(key.asText()));
    return keys;
  }

  @Test
  void aKeyAddWithoutAWellFormedProofIsBadField() throws Exception {
    TestUser alice = user("alice");
    TestIdentity laptop = TestIdentity.random();
    String proof = laptop.signBytes(proofBytes(alice.address(), alice.key().publicKey()));
    byte[] raw = Base64.getDecoder().decode(proof);

    assertError(alice.send(keyAddWith(laptop.publicKey(), null)), "bad_field");
    assertError(alice.send(message("key_add", JsonObject.builder().put("pubkey", laptop.publicKey())
        .put("proof", 7).build())), "bad_field");
    assertError(alice.send(keyAddWith(laptop.publicKey(), "not base64!")), "bad_field");
    assertError(alice.send(keyAddWith(laptop.publicKey(),
        Base64.getEncoder().encodeToString(java.util.Arrays.copyOf(raw, 63)))), "bad_field");
    assertError(alice.send(keyAddWith(laptop.publicKey(), proof.replace("=", ""))), "bad_field");
    assertEquals(List.of(alice.key().publicKey()), keysOf(alice, alice.address()), "nothing was bound");

    assertAck(alice.send(keyAddWith(laptop.publicKey(), proof)));
    assertEquals(List.of(alice.key().publicKey(), laptop.publicKey()), keysOf(alice, alice.address()));
  }

  @Test
  void aProofThatIsNotTheNewKeysSignatureOverThisAddressAndSignerIsForbidden() throws Exception {
    TestUser bob = user("bob");
    TestIdentity laptop = TestIdentity.random();
    TestIdentity other = TestIdentity.random();
    byte[] right = proofBytes(bob.address(), bob.key().publicKey());

    // Signed by another key (here the signer itself), over the right bytes.
    assertError(bob.send(keyAddWith(laptop.publicKey(), other.signBytes(right))), "forbidden");
    assertError(bob.send(keyAddWith(laptop.publicKey(), bob.key().signBytes(right))), "forbidden");
    // Signed by the new key, over another address or for another signer.
    assertError(bob.send(keyAddWith(laptop.publicKey(),
        laptop.signBytes(proofBytes("carol#example.com", bob.key().publicKey())))), "forbidden");
    assertError(bob.send(keyAddWith(laptop.publicKey(),
        laptop.signBytes(proofBytes(bob.address(), other.publicKey())))), "forbidden");
    assertEquals(List.of(bob.key().publicKey()), keysOf(bob, bob.address()), "nothing was bound");
  }

  /**
   * Keys that are no curve point, or of small or mixed order. The proof offered is R = identity,
   * S = 0, which a small-order key would "verify" for any message.
   */
  @ParameterizedTest
  @ValueSource(strings = {
      "0200000000000000000000000000000000000000000000000000000000000000", // no curve point
      "0100000000000000000000000000000000000000000000000000000000000000", // identity, order 1
      "26e8958fc2b227b045c3f489f2ef98f0d5dfac05d3c63339b13802886d53fc05", // order 8
      "4b72aff85c68bf61b221a0bcdc5b5c588d606a98735d3ef7660032ca7e44f0bf"}) // mixed order
  void aKeyThatIsNotAPrimeOrderCurvePointIsForbidden(String keyHex) throws Exception {
    TestUser dave = user("dave");
    String key = Base64.getEncoder().encodeToString(HEX.parseHex(keyHex));
    String forgery = Base64.getEncoder().encodeToString(HEX.parseHex(
        "0100000000000000000000000000000000000000000000000000000000000000"
            + "0000000000000000000000000000000000000000000000000000000000000000"));
    assertError(dave.send(keyAddWith(key, forgery)), "forbidden");
    assertEquals(List.of(dave.key().publicKey()), keysOf(dave, dave.address()));
  }

  @Test
  void nobodyCanBindAKeyTheyDoNotHold() throws Exception {
    TestUser mallory = user("mallory");
    TestIdentity victim = TestIdentity.random();
    TestUser helper = user("helper");
    // The victim's key is not registered yet. Mallory has no proof by it; a proof the victim gave
    // for another address (seen on the wire) names that address and signer, so it does not fit.
    String seen = victim.signBytes(proofBytes(helper.address(), helper.key().publicKey()));
    assertError(mallory.send(keyAddWith(victim.publicKey(), seen)), "forbidden");
    assertError(mallory.send(keyAddWith(victim.publicKey(), null)), "bad_field");

    // So the victim's key is still free: it registers its own address.
    TestClient victimClient = new TestClient(server.port());
    String address = "victim" + System.nanoTime() + "#example.com";
    JsonNode ack = authenticate(victimClient, victim, address);
    assertTrue(ack.path("registered").asBoolean());
    assertEquals(List.of(victim.publicKey()), keysOf(mallory, address));
    victimClient.close();
  }

  @Test
  void onlyThePrimaryKeyRevokesAnother() throws Exception {
    TestUser erin = user("erin");
    TestIdentity laptop = TestIdentity.random();
    TestIdentity phone = TestIdentity.random();
    assertAck(erin.send(keyAdd(erin.address(), erin.key(), laptop)));
    assertAck(erin.send(keyAdd(erin.address(), erin.key(), phone)));
    TestClient laptopClient = new TestClient(server.port());
    authenticate(laptopClient, laptop, erin.address());

    // The laptop is not primary: it revokes neither the phone nor the primary.
    assertError(laptopClient.call(laptop.frame(keyRevoke(phone.publicKey()))), "forbidden");
    assertError(laptopClient.call(laptop.frame(keyRevoke(erin.key().publicKey()))), "forbidden");
    assertEquals(List.of(erin.key().publicKey(), laptop.publicKey(), phone.publicKey()),
        keysOf(erin, erin.address()));

    // The primary revokes the laptop: its connection is closed, and its key is unknown from then on.
    assertAck(erin.send(keyRevoke(laptop.publicKey())));
    assertTrue(laptopClient.closedByServer(), "a connection authenticated with a revoked key is closed");
    TestClient again = new TestClient(server.port());
    assertError(again.call(laptop.frame(text("still me?", erin.address()))), "unknown_sender");
    assertError(again.call(laptop.frame(auth(again, erin.address()))), "forbidden");
    assertEquals(List.of(erin.key().publicKey(), phone.publicKey()), keysOf(erin, erin.address()));
    again.close();
  }

  @Test
  void anyKeyRevokesItselfAndThePrimaryPassesToTheNextOldest() throws Exception {
    TestUser frank = user("frank");
    TestIdentity laptop = TestIdentity.random();
    TestIdentity phone = TestIdentity.random();
    TestIdentity tablet = TestIdentity.random();
    for (TestIdentity key : List.of(laptop, phone, tablet)) {
      assertAck(frank.send(keyAdd(frank.address(), frank.key(), key)));
    }
    TestClient others = new TestClient(server.port());

    // A non-primary key revokes itself.
    assertAck(others.call(tablet.frame(keyRevoke(tablet.publicKey()))));
    // The primary revokes itself: the laptop, next oldest, becomes primary and may revoke the phone.
    assertAck(others.call(frank.key().frame(keyRevoke(frank.key().publicKey()))));
    assertTrue(frank.client().closedByServer(), "the revoked key's authenticated connection is closed");
    assertEquals(List.of(laptop.publicKey(), phone.publicKey()), keysOf(new TestUser(frank.address(), laptop, others),
        frank.address()));
    assertError(others.call(phone.frame(keyRevoke(laptop.publicKey()))), "forbidden");
    assertAck(others.call(laptop.frame(keyRevoke(phone.publicKey()))));
    // The last key cannot go.
    assertError(others.call(laptop.frame(keyRevoke(laptop.publicKey()))), "forbidden");
    assertError(others.call(frank.key().frame(keyRevoke(laptop.publicKey()))), "unknown_sender");
    others.close();
  }

  /**
   * A key revoking itself on a connection authenticated with it: that connection gets its ack, then
   * is closed, and the revocation holds.
   */
  @Test
  void aKeyRevokingItselfOnItsOwnConnectionIsAnsweredThenDisconnected() throws Exception {
    TestUser ivy = user("ivy");
    TestIdentity laptop = TestIdentity.random();
    assertAck(ivy.send(keyAdd(ivy.address(), ivy.key(), laptop)));
    assertAck(ivy.send(keyRevoke(ivy.key().publicKey())));
    assertTrue(ivy.client().closedByServer(), "the connection authenticated with the revoked key is closed");
    TestUser viaLaptop = new TestUser(ivy.address(), laptop, new TestClient(server.port()));
    assertEquals(List.of(laptop.publicKey()), keysOf(viaLaptop, ivy.address()));
    assertError(viaLaptop.client().call(ivy.key().frame(text("gone", ivy.address()))), "unknown_sender");
    viaLaptop.client().close();
  }

  @Test
  void anAddressHoldsAtMostSixteenKeys() throws Exception {
    TestUser grace = user("grace");
    List<TestIdentity> added = new ArrayList<>();
    for (int i = 0; i < 15; i++) {
      TestIdentity key = TestIdentity.random();
      assertAck(grace.send(keyAdd(grace.address(), grace.key(), key)));
      added.add(key);
    }
    assertEquals(16, keysOf(grace, grace.address()).size());

    TestIdentity seventeenth = TestIdentity.random();
    JsonNode refused = grace.send(keyAdd(grace.address(), grace.key(), seventeenth));
    assertError(refused, "forbidden");
    assertTrue(refused.path("message").asText().contains("16"), refused.toString());
    // Adding a key the address already has is still an ack, and binds nothing.
    assertAck(grace.send(keyAdd(grace.address(), grace.key(), added.get(0))));
    assertEquals(16, keysOf(grace, grace.address()).size());

    // Once one is revoked, there is room again.
    assertAck(grace.send(keyRevoke(added.get(0).publicKey())));
    assertAck(grace.send(keyAdd(grace.address(), grace.key(), seventeenth)));
    assertEquals(16, keysOf(grace, grace.address()).size());
  }

  @Test
  void reservedNamesAreNotRegistered() throws Exception {
    TestIdentity key = TestIdentity.random();
    TestClient client = new TestClient(server.port());
    JsonNode refused = client.call(key.frame(auth(client, "admin#example.com")));
    assertError(refused, "forbidden");
    assertTrue(refused.path("message").asText().contains("reserved"), refused.toString());
    assertError(client.call(key.frame(auth(client, "postmaster#example.com"))), "forbidden");
    // The match is on the whole local part: a name that merely contains one registers.
    assertTrue(authenticate(client, key, "admin-" + System.nanoTime() + "#example.com")
        .path("registered").asBoolean());
    client.close();
  }
}
