package org.esmp.server.store;

import java.util.Objects;
import java.util.Optional;
import org.esmp.api.Address;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.Session;
import org.esmp.api.SignedMessage;

/**
 * A verified message as the server hands it to a handler, with whether its type is deduplicated
 * and whether it has been recorded as accepted yet. Only requests of this class can be committed
 * with {@link Commits#commit(Request, org.esmp.api.Writes, org.esmp.api.Reply)}: the server
 * decides what a message's record says, not a plugin.
 */
public final class IncomingRequest implements Request {

  private final SignedMessage message;
  private final Optional<Address> sender;
  private final Session session;
  private final long receivedAt;
  private final boolean deduplicated;
  private final Optional<String> peer;
  /** Set once a commit recorded the message as accepted. */
  private volatile boolean recorded;

  /**
   * @param deduplicated whether the message's type is answered as a duplicate once accepted (every
   *     type but the session types)
   */
  public IncomingRequest(SignedMessage message, Optional<Address> sender, Session session, long receivedAt,
      boolean deduplicated) {
    this(message, sender, session, receivedAt, deduplicated, Optional.empty());
  }

  /**
   * @param peer the domain of the server that relayed the message on its sender's behalf, if one did
   */
  public IncomingRequest(SignedMessage message, Optional<Address> sender, Session session, long receivedAt,
      boolean deduplicated, Optional<String> peer) {
    this.peer = Objects.requireNonNull(peer, "peer");
    this.message = Objects.requireNonNull(message, "message");
    this.sender = Objects.requireNonNull(sender, "sender");
    this.session = Objects.requireNonNull(session, "session");
    this.receivedAt = receivedAt;
    this.deduplicated = deduplicated;
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
  public Session session() {
    return session;
  }

  @Override
  public long receivedAt() {
    return receivedAt;
  }

  @Override
  public Optional<String> peer() {
    return peer;
  }

  /** Whether the type is deduplicated: an acknowledged message is recorded as accepted. */
  public boolean deduplicated() {
    return deduplicated;
  }

  /** Whether a commit has recorded the message as accepted. */
  public boolean recorded() {
    return recorded;
  }

  /**
   * Whether answering {@code answer} records the message as accepted now: its type is
   * deduplicated, the answer is an {@code ack}, and no commit has recorded it yet.
   */
  public boolean recordsAs(Reply answer) {
    return deduplicated && !recorded && answer != null && answer.isAck();
  }

  void markRecorded() {
    recorded = true;
  }

  @Override
  public String toString() {
    return "request " + message.id() + " (" + message.type() + ")";
  }
}
