package org.esmp.api.testkit;

import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
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

/**
 * A verified message as the server hands it to a plugin, built with {@link #builder}. Its signature
 * is not real: the server verified it before a plugin ever sees a request. Like the server's own
 * requests it knows whether its type is deduplicated and whether a commit has recorded it, which
 * {@link TestContext}'s store and mailboxes use exactly as the server does.
 */
public final class TestRequest implements Request {

  private static final AtomicLong ids = new AtomicLong();

  private final SignedMessage message;
  private final Optional<Address> sender;
  private final TestSession session;
  private final long receivedAt;
  private final boolean deduplicated;
  private volatile boolean recorded;

  private TestRequest(SignedMessage message, Optional<Address> sender, TestSession session, long receivedAt,
      boolean deduplicated) {
    this.message = message;
    this.sender = sender;
    this.session = session;
    this.receivedAt = receivedAt;
    this.deduplicated = deduplicated;
  }

  /** A request of {@code type} from {@code sender}; each built request gets a fresh message id. */
  public static Builder builder(String type, Address sender) {
    return new Builder(type, sender);
  }

  @Override
  public SignedMessage message() {
    return message;
  }

  @Override
  public Optional<Address> sender() {
    return sender;
  }

  @Override
  public TestSession session() {
    return session;
  }

  @Override
  public long receivedAt() {
    return receivedAt;
  }

  /** Whether an acknowledged commit of this request records it as accepted. */
  public boolean deduplicated() {
    return deduplicated;
  }

  /** Whether a commit has recorded this request as accepted. */
  public boolean recorded() {
    return recorded;
  }

  void markRecorded() {
    recorded = true;
  }

  /** Builds requests. */
  public static final class Builder {
    private final String type;
    private final Address sender;
    private final List<Address> to = new ArrayList<>();
    private final List<Address> cc = new ArrayList<>();
    private Optional<String> groupId = Optional.empty();
    private JsonValue body = JsonObject.empty();
    private OptionalLong ts = OptionalLong.empty();
    private Optional<Address> connection = Optional.empty();
    private long receivedAt = 1_764_000_000_000L;
    private boolean deduplicated = true;
    private MessageId id;

    private Builder(String type, Address sender) {
      this.type = Objects.requireNonNull(type, "type");
      this.sender = Objects.requireNonNull(sender, "sender");
    }

    /** Adds addresses to {@code to}. */
    public Builder to(Address... addresses) {
      to.addAll(List.of(addresses));
      return this;
    }

    /** Adds addresses to {@code cc}. */
    public Builder cc(Address... addresses) {
      cc.addAll(List.of(addresses));
      return this;
    }

    public Builder group(String id) {
      groupId = Optional.of(id);
      return this;
    }

    public Builder body(JsonValue value) {
      body = Objects.requireNonNull(value, "body");
      return this;
    }

    public Builder ts(long millis) {
      ts = OptionalLong.of(millis);
      return this;
    }

    /** The connection it arrived on is authenticated as {@code address}. */
    public Builder authenticatedAs(Address address) {
      connection = Optional.of(address);
      return this;
    }

    /** The connection it arrived on is authenticated as the sender. */
    public Builder authenticated() {
      return authenticatedAs(sender);
    }

    public Builder receivedAt(long millis) {
      receivedAt = millis;
      return this;
    }

    /** A session type's message: processed every time, never recorded as accepted. */
    public Builder sessionType() {
      deduplicated = false;
      return this;
    }

    /** This message id instead of a fresh one: the same message arriving twice. */
    public Builder id(MessageId messageId) {
      id = Objects.requireNonNull(messageId, "id");
      return this;
    }

    public TestRequest build() {
      MessageId messageId = id != null ? id : new MessageId(String.format("%064x", ids.incrementAndGet()));
      JsonObject.Builder fields = JsonObject.builder().put("type", type)
          .put("to", JsonArray.ofStrings(to.stream().map(Address::toString).toList()));
      if (!cc.isEmpty()) {
        fields.put("cc", JsonArray.ofStrings(cc.stream().map(Address::toString).toList()));
      }
      groupId.ifPresent(g -> fields.put("group_id", g));
      ts.ifPresent(t -> fields.put("ts", t));
      fields.put("body", body).put("signature", "c2ln").put("sender_pubkey", "a2V5");
      SignedMessage message = new SignedMessage(messageId, type, to, cc, groupId, body, ts,
          Ed25519Key.of(new byte[Ed25519Key.LENGTH]), fields.build());
      return new TestRequest(message, Optional.of(sender), new TestSession(connection), receivedAt, deduplicated);
    }
  }

  /** A connection, authenticated or not, that keeps what is pushed to it. */
  public static final class TestSession implements Session {
    private final Optional<Address> address;
    private final List<JsonObject> pushed = new java.util.concurrent.CopyOnWriteArrayList<>();

    TestSession(Optional<Address> address) {
      this.address = address;
    }

    @Override
    public String id() {
      return "test";
    }

    @Override
    public Optional<Address> address() {
      return address;
    }

    @Override
    public void push(JsonObject frame) {
      pushed.add(frame);
    }

    /** The frames pushed to this connection, in order. */
    public List<JsonObject> pushed() {
      return List.copyOf(pushed);
    }

    @Override
    public boolean isOpen() {
      return true;
    }

    @Override
    public void close() {}
  }
}
