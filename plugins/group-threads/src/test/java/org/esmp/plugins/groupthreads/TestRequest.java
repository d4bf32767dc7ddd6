package org.esmp.plugins.groupthreads;

import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MessageId;
import org.esmp.api.Request;
import org.esmp.api.Session;
import org.esmp.api.SignedMessage;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;

/** A verified message as the server would hand it to the plugin; built with {@link #builder}. */
record TestRequest(SignedMessage message, Optional<Address> sender, Session session, long receivedAt)
    implements Request {

  private static final AtomicLong ids = new AtomicLong();

  static Builder builder(String type, Address sender) {
    return new Builder(type, sender);
  }

  /** Builds one request; each gets a fresh message id. */
  static final class Builder {
    private final String type;
    private final Address sender;
    private Optional<String> groupId = Optional.empty();
    private JsonValue body = JsonObject.empty();
    private Optional<Address> connection = Optional.empty();
    private long receivedAt = 1_764_000_000_000L;

    private Builder(String type, Address sender) {
      this.type = type;
      this.sender = sender;
    }

    Builder group(String id) {
      groupId = Optional.of(id);
      return this;
    }

    Builder body(JsonValue value) {
      body = value;
      return this;
    }

    /** The connection authenticated as {@code address}. */
    Builder authenticatedAs(Address address) {
      connection = Optional.of(address);
      return this;
    }

    /** The connection authenticated as the sender. */
    Builder authenticated() {
      return authenticatedAs(sender);
    }

    Builder receivedAt(long millis) {
      receivedAt = millis;
      return this;
    }

    TestRequest build() {
      MessageId id = new MessageId(String.format("%064x", ids.incrementAndGet()));
      JsonObject.Builder fields = JsonObject.builder().put("type", type).put("to", JsonArray.of());
      groupId.ifPresent(g -> fields.put("group_id", g));
      fields.put("body", body).put("signature", "c2ln").put("sender_pubkey", "a2V5");
      SignedMessage message = new SignedMessage(id, type, List.of(), List.of(), groupId, body, OptionalLong.empty(),
          Ed25519Key.of(new byte[Ed25519Key.LENGTH]), fields.build());
      return new TestRequest(message, Optional.of(sender), new TestSession(connection), receivedAt);
    }
  }

  /** A connection, authenticated or not, that drops what is pushed to it. */
  record TestSession(Optional<Address> address) implements Session {
    @Override
    public String id() {
      return "test";
    }

    @Override
    public void push(JsonObject frame) {}

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
