package org.esmp.api.testkit;

import java.nio.charset.StandardCharsets;
import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.util.HexFormat;
import java.util.List;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.MessageId;
import org.esmp.api.spi.StorageChange;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;

/**
 * Values for a storage's tests (the bundled storages' and a third party's), derived from a name so
 * that a test can rebuild them: addresses, keys, ids, message-like objects, entries and changes.
 */
public final class StorageFixtures {

  private StorageFixtures() {}

  public static Address address(String local) {
    return new Address(local, "example.com");
  }

  public static Ed25519Key key(String name) {
    return Ed25519Key.of(sha256(name));
  }

  public static MessageId id(String name) {
    return new MessageId(HexFormat.of().formatHex(sha256(name)));
  }

  /** A signed-message-like object of about {@code size} bytes. */
  public static JsonObject message(String name, int size) {
    String text = "x".repeat(Math.max(0, size - 200));
    return JsonObject.builder()
        .put("type", "text")
        .put("to", JsonArray.ofStrings(List.of("bob#example.com")))
        .put("ts", 1_700_000_000_000L)
        .put("body", JsonObject.builder().put("text", name + " " + text).build())
        .put("sender_pubkey", key(name).base64())
        .put("signature", "c2lnbmF0dXJl")
        .build();
  }

  public static MailboxEntry entry(String name, Address from, long receivedAt) {
    return MailboxEntry.direct(id(name), from, receivedAt, message(name, 400));
  }

  public static JsonObject ack(String name) {
    return JsonObject.builder().put("note", "ack of " + name).build();
  }

  /** One direct message: accepted and appended to each recipient. */
  public static StorageChange delivery(String name, long at, Address from, Address... to) {
    StorageChange.Builder change = StorageChange.builder().accept(id(name), at, ack(name));
    MailboxEntry entry = entry(name, from, at);
    for (Address recipient : to) {
      change.append(recipient, entry);
    }
    return change.build();
  }

  private static byte[] sha256(String text) {
    try {
      return MessageDigest.getInstance("SHA-256").digest(text.getBytes(StandardCharsets.UTF_8));
    } catch (NoSuchAlgorithmException e) {
      throw new AssertionError(e);
    }
  }
}
