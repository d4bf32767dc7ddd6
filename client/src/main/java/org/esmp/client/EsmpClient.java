package org.esmp.client;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.Closeable;
import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Base64;
import java.util.Collection;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.CompletableFuture;

/**
 * A client of one ESMP/1 server, as one identity.
 *
 * <pre>{@code
 * Identity me = Identity.load(Path.of(System.getProperty("user.home"), ".esmp/identity.json"));
 * try (EsmpClient client = EsmpClient.connect("localhost", 5888, me)) {
 *   client.auth();
 *   client.sendText(List.of("bob#localhost"), List.of(), "lunch?");
 *   client.sync(listener);            // backlog from the saved cursor, then live
 * }
 * }</pre>
 *
 * <p><b>Types.</b> The API speaks in the client's own types: records for what the server says
 * ({@link Hello}, {@link Ack}, {@link GroupInfo}, {@link History}, {@link Delivery}, {@link
 * Answer}) and, where a message or frame is raw protocol JSON, that JSON as a {@code String}
 * (one object, compact: members in the order received, RFC 8785 string escapes). It needs no
 * JSON library of the caller; read a {@code json()} with any.
 *
 * <p><b>Threads.</b> A plain blocking socket and one reader thread per connection. {@link
 * #send(String)} may be called from any thread and does not wait: it signs, writes, and returns
 * a future completed by the reader thread when the answer comes, so sends pipeline. Answers
 * arrive in the order messages were written (ESMP-1 §3) and are matched to them by id ({@code
 * re}). Deliveries go to the {@link DeliveryListener} given to {@link #sync}, on the reader
 * thread. The blocking methods ({@link #auth()}, {@link #sendText}, …) wait at most the answer
 * timeout (30 s) and must not be called from the listener.
 *
 * <p><b>Signatures.</b> Every delivered message and history entry is verified (signature, id)
 * before it is handed out; one that fails is refused ({@link DeliveryListener#onRefused}, or
 * {@link InvalidMessageException} from {@link #history}).
 *
 * <p><b>Reconnects.</b> With {@link Builder#autoReconnect(boolean)}, a synced client whose
 * connection drops reconnects with backoff (1 s doubling to 30 s), authenticates and syncs again
 * from the last cursor handled; entries already handed to the listener are not handed twice.
 * Answers pending on the lost connection fail with {@link ConnectionClosedException}; a {@link
 * SignedMessage} may be sent again.
 */
public final class EsmpClient implements Closeable {

  /** The ESMP port. */
  public static final int DEFAULT_PORT = 5888;

  private final Identity identity;
  private final Session session;
  private final Groups groups;

  private EsmpClient(Builder b) {
    this.identity = b.identity;
    this.session = new Session(b.host, b.port, b.tls, identity, b.connectTimeout, b.answerTimeout,
        b.autoReconnect);
    this.groups = new Groups(session::call);
  }

  /** Connects with the defaults (no automatic reconnect) and reads the server's {@code hello}. */
  public static EsmpClient connect(String host, int port, Identity identity) throws IOException {
    return builder(identity).server(host, port).connect();
  }

  public static Builder builder(Identity identity) {
    return new Builder(identity);
  }

  /** Options of a client; {@link #connect()} makes one. */
  public static final class Builder {
    private final Identity identity;
    private String host = "localhost";
    private int port = DEFAULT_PORT;
    private Duration answerTimeout = Duration.ofSeconds(30);
    private Duration connectTimeout = Duration.ofSeconds(10);
    private boolean autoReconnect;
    private Tls tls;

    private Builder(Identity identity) {
      this.identity = identity;
    }

    public Builder server(String host, int port) {
      this.host = host;
      this.port = port;
      return this;
    }

    /** How long the blocking methods wait for an answer (30 s). */
    public Builder answerTimeout(Duration timeout) {
      this.answerTimeout = timeout;
      return this;
    }

    public Builder connectTimeout(Duration timeout) {
      this.connectTimeout = timeout;
      return this;
    }

    /** Speaks TLS, trusting as {@code tls} says; null (the default) for plaintext. */
    public Builder tls(Tls tls) {
      this.tls = tls;
      return this;
    }

    /** Whether a synced client resumes after a lost connection (off). */
    public Builder autoReconnect(boolean on) {
      this.autoReconnect = on;
      return this;
    }

    public EsmpClient connect() throws IOException {
      EsmpClient client = new EsmpClient(this);
      client.session.connect();
      return client;
    }
  }

  public Identity identity() {
    return identity;
  }

  /**
   * What the server said on connecting (ESMP-1 §4).
   *
   * @param domain the domain it names itself by, which {@code auth} must name
   * @param domains every domain it serves
   * @param challenge base64 of the bytes {@code auth} must send back
   * @param maxFrame the longest frame it reads, in bytes
   * @param json the whole {@code hello} frame
   */
  public record Hello(String protocol, String domain, List<String> domains, String challenge,
      int maxFrame, String json) {
    static Hello of(ObjectNode hello) {
      return new Hello(hello.path("protocol").asText(), hello.path("domain").asText(),
          Frames.strings(hello.path("domains")), hello.path("challenge").asText(),
          hello.path("max_frame").asInt(65536), Frames.compact(hello));
    }
  }

  /** The current connection's {@code hello}. */
  public Hello hello() throws IOException {
    return Hello.of(session.hello());
  }

  // ---------------------------------------------------------------- sending

  /**
   * An answer that is not an {@code error}: an {@code ack} or a typed result such as {@code
   * keys}, {@code synced}, {@code history} or {@code group}.
   *
   * @param type its {@code type}
   * @param json the whole answer frame
   */
  public record Answer(String type, String json) {
    static Answer of(ObjectNode answer) {
      return new Answer(answer.path("type").asText(), Frames.compact(answer));
    }
  }

  /**
   * Signs a message as this identity: {@code messageJson} is one JSON object, the message
   * without {@code signature} and {@code sender_pubkey} (which are set); {@code to} is added as
   * {@code []} and {@code ts} as the current time when absent. Send the result with {@link
   * #send(SignedMessage)}, again if need be.
   *
   * @throws IllegalArgumentException if {@code messageJson} is not one JSON object, repeats a
   *     member, or holds a value that is not I-JSON (an integer beyond 2^53−1, a lone surrogate)
   */
  public SignedMessage sign(String messageJson) {
    return session.sign(Frames.parseObject(messageJson));
  }

  /**
   * Signs {@code messageJson} ({@link #sign}) and sends it. Does not wait.
   *
   * @return the answer; completes exceptionally with {@link ServerException} for an {@code
   *     error}, {@link ConnectionClosedException} if the connection is lost first
   * @throws IllegalArgumentException as {@link #sign} does
   */
  public CompletableFuture<Answer> send(String messageJson) {
    return send(sign(messageJson));
  }

  /** Sends an already signed message, e.g. again after a lost connection (same id). Does not wait. */
  public CompletableFuture<Answer> send(SignedMessage message) {
    CompletableFuture<Answer> answer = new CompletableFuture<>();
    // Not thenApply: a ServerException is to fail the answer as it is, not wrapped.
    session.send(message).whenComplete((frame, failed) -> {
      try {
        if (failed != null) {
          answer.completeExceptionally(failed);
        } else {
          answer.complete(Answer.of(frame));
        }
      } catch (RuntimeException e) {
        answer.completeExceptionally(e); // never leave the caller waiting
      }
    });
    return answer;
  }

  /**
   * Signs and sends {@code messageJson} and waits for the answer (at most the answer timeout).
   *
   * @throws ServerException for an {@code error} answer
   * @throws IllegalArgumentException as {@link #sign} does
   */
  public Answer call(String messageJson) throws IOException {
    return Answer.of(session.await(session.send(sign(messageJson))));
  }

  /**
   * What an {@code ack} says. {@code seq} is set for group traffic; {@code rejected} (address to
   * error code, in the server's order) for direct.
   *
   * @param id the id of the message it answers
   * @param json the whole {@code ack} frame
   */
  public record Ack(String id, boolean duplicate, Long seq, Map<String, String> rejected,
      String json) {
    static Ack of(ObjectNode answer) throws IOException {
      if (!"ack".equals(answer.path("type").asText())) {
        throw new IOException("expected an ack, got " + answer);
      }
      Map<String, String> rejected = new LinkedHashMap<>();
      answer.path("rejected").properties().forEach(e -> rejected.put(e.getKey(), e.getValue().asText()));
      return new Ack(answer.path("re").asText(null), answer.path("duplicate").asBoolean(),
          answer.hasNonNull("seq") ? answer.get("seq").asLong() : null,
          Collections.unmodifiableMap(rejected), Frames.compact(answer));
    }
  }

  /**
   * Authenticates this connection as the identity's address, answering the {@code hello}
   * challenge; on a server with open registration, a new address is registered to this key.
   *
   * @return true when this call registered the address
   */
  public boolean auth() throws IOException {
    return session.auth();
  }

  /** Sends a {@code text} message to {@code to} and {@code cc}. */
  public Ack sendText(Collection<String> to, Collection<String> cc, String text) throws IOException {
    ObjectNode body = Frames.JSON.createObjectNode().put("text", text);
    return sendContent("text", to, cc, body);
  }

  /**
   * Sends a direct message of any content type (a plugin's, such as {@code reaction}) to {@code to}
   * and {@code cc}, with {@code bodyJson} as its body.
   *
   * @throws IllegalArgumentException when {@code bodyJson} is not one JSON object, or an address
   *     is not an ESMP address
   */
  public Ack sendContent(String type, Collection<String> to, Collection<String> cc, String bodyJson)
      throws IOException {
    JsonNode body;
    try {
      body = Frames.JSON.readTree(bodyJson);
    } catch (IOException e) {
      throw new IllegalArgumentException("the body is not JSON: " + e.getMessage(), e);
    }
    if (body == null || !body.isObject()) {
      throw new IllegalArgumentException("the body must be a JSON object, like {\"text\":\"hi\"}");
    }
    return sendContent(type, to, cc, (ObjectNode) body);
  }

  private Ack sendContent(String type, Collection<String> to, Collection<String> cc, ObjectNode body)
      throws IOException {
    ObjectNode message = Frames.newMessage(type);
    Frames.addresses(message.putArray("to"), to);
    if (!cc.isEmpty()) {
      Frames.addresses(message.putArray("cc"), cc);
    }
    message.set("body", body);
    return Ack.of(session.call(message));
  }

  /** The public keys of {@code address}, oldest first; empty if it does not exist there. */
  public List<String> lookup(String address) throws IOException {
    ObjectNode message = Frames.newMessage("lookup");
    message.putObject("body").put("address", Addresses.check(address));
    List<String> keys = new ArrayList<>();
    session.call(message).path("keys").forEach(k -> keys.add(k.asText()));
    return keys;
  }

  /**
   * Binds {@code newKey} to this identity's address as another device key ({@code key_add}),
   * proving possession of it with {@link #keyAddProof}. Adding a key the address already has is
   * an ack that changes nothing; a key of another address, or an address already holding the
   * server's maximum of keys, is a {@link ServerException} with code {@code forbidden}.
   */
  public Ack addKey(SigningKey newKey) throws IOException {
    String proof = keyAddProof(identity.address(), identity.key().publicKeyBase64(), newKey);
    ObjectNode message = Frames.newMessage("key_add");
    message.putObject("body").put("pubkey", newKey.publicKeyBase64()).put("proof", proof);
    return Ack.of(session.call(message));
  }

  /**
   * The proof a {@code key_add} carries (ESMP/1 section 4): {@code newKey}'s signature, standard
   * padded base64, over the UTF-8 bytes of {@code "esmp-key-add\n" + address + "\n" + signer},
   * {@code signer} being the base64 public key that will sign the {@code key_add}. A new device
   * can make it and hand only the proof and its public key to a device already holding a key.
   */
  public static String keyAddProof(String address, String signer, SigningKey newKey) {
    byte[] bytes = ("esmp-key-add\n" + Addresses.check(address) + "\n" + signer).getBytes(StandardCharsets.UTF_8);
    return Base64.getEncoder().encodeToString(newKey.sign(bytes));
  }

  /**
   * Unbinds {@code pubkey} (standard base64) from this identity's address ({@code key_revoke}).
   * Any key may revoke itself; only the address's primary (oldest) key may revoke another; the
   * last key cannot go ({@code forbidden}). Revoking this client's own key closes every connection
   * authenticated with it; this one gets the ack first, then is closed.
   */
  public Ack revokeKey(String pubkey) throws IOException {
    ObjectNode message = Frames.newMessage("key_revoke");
    message.putObject("body").put("pubkey", pubkey);
    return Ack.of(session.call(message));
  }

  // ---------------------------------------------------------------- groups

  /**
   * Creates a group with a fresh UUID as its id; the sender is its admin.
   *
   * @param name shown to members, or null
   * @param open whether anyone may join ({@code open}) or only whom an admin adds ({@code invite})
   * @return the group id
   */
  public String createGroup(String name, Collection<String> members, boolean open) throws IOException {
    return groups.create(name, members, open);
  }

  /** Adds {@code member} to the group ({@code joined}); an admin may add anyone, anyone may join an open group. */
  public Ack addMember(String groupId, String member) throws IOException {
    return groups.add(groupId, member);
  }

  /** Removes {@code member} from the group ({@code removed}; admins only). */
  public Ack removeMember(String groupId, String member) throws IOException {
    return groups.remove(groupId, member);
  }

  /** Leaves the group ({@code left}). */
  public Ack leave(String groupId) throws IOException {
    return groups.leave(groupId);
  }

  /** Posts a {@code text} message into the group's thread. */
  public Ack post(String groupId, String text) throws IOException {
    return groups.post(groupId, text);
  }

  /** A page of a group's thread, newest first; {@code more} when older entries remain. */
  public record History(String groupId, List<Delivery> entries, boolean more) {}

  /**
   * Reads a group's thread back (members only), newest first.
   *
   * @param before only entries with a lower {@code seq}, or null for the newest
   * @param limit at most this many (server default 50, at most 500), or null
   * @throws InvalidMessageException if an entry does not verify
   */
  public History history(String groupId, Long before, Integer limit) throws IOException {
    return groups.history(groupId, before, limit);
  }

  /**
   * A group as {@code group_info} describes it.
   *
   * @param name null when it has none
   * @param policy {@code invite} or {@code open}
   * @param members longest-standing first
   * @param admins in the order they became admin
   * @param seq the newest entry of its thread
   * @param json the whole answer frame
   */
  public record GroupInfo(String groupId, String name, String policy, List<String> members,
      List<String> admins, long seq, String json) {}

  /** The group's name, policy, members, admins and last {@code seq} (members only). */
  public GroupInfo groupInfo(String groupId) throws IOException {
    return groups.info(groupId);
  }

  // ---------------------------------------------------------------- sync

  /**
   * Asks for every mailbox entry after the identity's saved cursor, then live ones, and hands
   * them to {@code listener} (see its contract). Needs {@link #auth()} first on this connection.
   * A second call replaces the listener.
   *
   * @return the newest cursor of the mailbox when the server answered
   */
  public long sync(DeliveryListener listener) throws IOException {
    return session.sync(listener, true);
  }

  /**
   * Like {@link #sync(DeliveryListener)}, but deliveries are queued for the caller to {@link
   * DeliveryQueue#take take}, and a cursor is saved only when the caller says it is {@link
   * DeliveryQueue#done done} with that delivery.
   */
  public DeliveryQueue syncQueue() throws IOException {
    DeliveryQueue queue = new DeliveryQueue(identity);
    session.sync(queue, false);
    return queue;
  }

  /** Closes the connection; a listener in progress finishes first (unless it is the caller). */
  @Override
  public void close() {
    session.close();
  }
}
