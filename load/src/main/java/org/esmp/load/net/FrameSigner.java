package org.esmp.load.net;

import com.fasterxml.jackson.databind.node.JsonNodeFactory;
import com.fasterxml.jackson.databind.node.ObjectNode;
import java.util.Arrays;
import java.util.Collection;
import org.esmp.client.Jcs;
import org.esmp.client.Messages;

/**
 * Builds and signs the messages the tool sends, with the client library's signing (RFC 8785 signing
 * bytes, Ed25519, message id): {@link Messages#sign} and {@link Jcs#compact}. Content messages are
 * padded to a requested frame size so that every frame of a run is the same size. Stateless and
 * thread-safe: scenarios sign in parallel before their timed part.
 */
public final class FrameSigner {

  private static final JsonNodeFactory NODES = JsonNodeFactory.instance;
  /** The width of the message number in a content message's text, so that all sizes are equal. */
  private static final String NUMBER = "%010d";
  /** Base64 of 64 and of 32 bytes: as long as a signature and a public key. */
  private static final String SIGNATURE_PLACEHOLDER = "A".repeat(86) + "==";
  private static final String PUBKEY_PLACEHOLDER = "A".repeat(43) + "=";

  /**
   * {@code auth} (ESMP-1 §4) for the challenge and domain of the server's {@code hello}, with the
   * connection's TLS channel binding when it is TLS ({@code tlsBinding}; null on plaintext).
   */
  public SignedFrame auth(LoadIdentity who, String challenge, String helloDomain, String tlsBinding) {
    ObjectNode message = message("auth");
    ObjectNode body = message.putObject("body");
    body.put("address", who.address());
    body.put("challenge", challenge);
    body.put("domain", helloDomain);
    if (tlsBinding != null) {
      body.put("tls_server_end_point", tlsBinding); // the connection's TLS channel binding
    }
    message.put("ts", System.currentTimeMillis()); // distinct ids for pipelined session messages
    return sign(message, who);
  }

  /** {@code sync} from cursor 0: the mailbox, then live deliveries on this connection. */
  public SignedFrame sync(LoadIdentity who) {
    ObjectNode message = message("sync");
    message.putObject("body").put("since", 0);
    message.put("ts", System.currentTimeMillis());
    return sign(message, who);
  }

  /**
   * A direct {@code text} to {@code recipient}, number {@code n} of its sender, padded so that
   * the frame is about {@code frameBytes} long (never shorter than the message without padding).
   */
  public SignedFrame text(LoadIdentity from, String recipient, long n, int frameBytes, long ts) {
    return padded(from, n, frameBytes, ts, message -> message.withArray("to").add(recipient));
  }

  /** A group {@code text} to {@code groupId}, number {@code n} of its sender, padded as {@link #text}. */
  public SignedFrame groupPost(LoadIdentity from, String groupId, long n, int frameBytes, long ts) {
    return padded(from, n, frameBytes, ts, message -> message.put("group_id", groupId));
  }

  /** {@code group_created} with an invite-only policy and {@code members} (the creator not among them). */
  public SignedFrame groupCreated(LoadIdentity creator, String groupId, Collection<String> members, long ts) {
    ObjectNode message = message("group_created");
    message.put("group_id", groupId);
    ObjectNode body = message.putObject("body");
    body.put("name", "esmp-load " + groupId);
    members.forEach(body.putArray("members")::add);
    message.put("ts", ts);
    return sign(message, creator);
  }

  private interface Addressing {
    void apply(ObjectNode message);
  }

  private SignedFrame padded(LoadIdentity from, long n, int frameBytes, long ts, Addressing addressing) {
    ObjectNode message = message("text");
    addressing.apply(message);
    ObjectNode body = message.putObject("body");
    String text = "esmp-load " + String.format(NUMBER, n) + " ";
    body.put("text", text);
    message.put("ts", ts);
    // Placeholders as long as the real values, which signing puts in their place: the frame's
    // length is known before the one signature it needs.
    message.put("signature", SIGNATURE_PLACEHOLDER);
    message.put("sender_pubkey", PUBKEY_PLACEHOLDER);
    int padding = frameBytes - (Jcs.compact(message).length + 1);
    if (padding > 0) {
      char[] fill = new char[padding];
      Arrays.fill(fill, 'x');
      body.put("text", text + new String(fill));
    }
    return sign(message, from);
  }

  private static ObjectNode message(String type) {
    ObjectNode message = NODES.objectNode();
    message.put("type", type);
    message.putArray("to");
    return message;
  }

  private static SignedFrame sign(ObjectNode message, LoadIdentity who) {
    Messages.Signed signed = Messages.sign(message, who.key());
    byte[] json = Jcs.compact(signed.frame());
    byte[] line = Arrays.copyOf(json, json.length + 1);
    line[json.length] = '\n';
    return new SignedFrame(signed.id(), line);
  }
}
