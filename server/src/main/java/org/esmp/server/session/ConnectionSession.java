package org.esmp.server.session;

import io.netty.buffer.ByteBuf;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.net.InetAddress;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MessageId;
import org.esmp.api.Session;
import org.esmp.api.json.JsonObject;
import org.esmp.json.JsonWriter;
import org.esmp.server.limits.IpKeys;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * One connection's session: its {@code hello} challenge, the address and key it authenticated
 * with, and the way frames are pushed to it.
 *
 * <p>Frames from any thread are written in the order they are sent, in batches on the connection's
 * event loop ({@link Outbox}), and queue in its outbound buffer, counted by its {@link OutputMeter} against the
 * server's output budget. A frame sent while the connection is over its share closes the connection rather
 * than letting the server's memory grow; its client resumes with {@code sync} from its last cursor.
 * The mailbox's live pushes do better: they wait ({@link #whenOutputDrains}) and catch up from the
 * storage if the client reads again within the grace.
 */
public final class ConnectionSession implements Session {

  private static final Logger log = LoggerFactory.getLogger(ConnectionSession.class);

  private static final AtomicLong IDS = new AtomicLong();
  private static final byte[] NEWLINE = {'\n'};
  private static final int CHALLENGE_BYTES = 32;

  /** The address and key a connection authenticated with. */
  private record Identity(Address address, Ed25519Key key) {}

  private final String id;
  private final Channel channel;
  private final String challenge;
  private final InetAddress remoteIp;
  private volatile Identity identity;
  /** The message whose answer is the last this connection gets; null while none is set. */
  private volatile MessageId lastAnswer;
  /** The base64 TLS channel binding an {@code auth} must carry; null on a plaintext connection. */
  private volatile String tlsBinding;
  /** Set once the connection authenticated as another server. */
  private volatile Peer peer;
  private volatile boolean relaysHeld;
  private volatile long relaysHeldUntil;
  /** Whether the connection synced (see {@link #markSynced}). */
  private volatile boolean synced;
  private final OutputMeter output;
  /** Every frame to the connection, in order, written in batches on its event loop. */
  private final Outbox outbox;

  /**
   * @param remoteIp who the connection counts as for per-IP limits ({@link IpKeys})
   * @param output the connection's output meter, in its pipeline
   */
  public ConnectionSession(Channel channel, InetAddress remoteIp, SecureRandom random, OutputMeter output) {
    this.id = "c" + IDS.incrementAndGet();
    this.channel = channel;
    this.output = output;
    this.outbox = new Outbox(channel, output);
    byte[] bytes = new byte[CHALLENGE_BYTES];
    random.nextBytes(bytes);
    this.challenge = Base64.getEncoder().encodeToString(bytes);
    this.remoteIp = remoteIp;
  }

  /** Who this connection counts as for per-IP limits: its client's IP, or IPv6 /64 ({@link IpKeys}). */
  public InetAddress remoteIp() {
    return remoteIp;
  }

  @Override
  public String id() {
    return id;
  }

  /** The base64 challenge sent in this connection's {@code hello}. */
  public String challenge() {
    return challenge;
  }

  /** Keeps the connection's TLS channel binding, once its handshake completed. */
  public void bindTls(String binding) {
    tlsBinding = binding;
  }

  /** The base64 TLS channel binding of the connection, if it is TLS. */
  public Optional<String> tlsBinding() {
    return Optional.ofNullable(tlsBinding);
  }

  @Override
  public Optional<Address> address() {
    Identity current = identity;
    return current == null ? Optional.empty() : Optional.of(current.address());
  }

  /**
   * Marks the connection as authenticated as {@code address} with {@code key}.
   *
   * @return {@code false} when it is already authenticated as another address
   */
  public synchronized boolean authenticate(Address address, Ed25519Key key) {
    if (peer != null) {
      return false;
    }
    if (identity != null && !identity.address().equals(address)) {
      return false;
    }
    identity = new Identity(address, key);
    return true;
  }

  /**
   * The other server this connection authenticated as, with its server key (ESMP/1 section 8).
   *
   * @param domain the domain it authenticated as
   * @param key its server key
   */
  public record Peer(String domain, Ed25519Key key) {}

  /**
   * Marks the connection as another server's, authenticated as {@code peer}.
   *
   * @return {@code false} when it is already authenticated as an address or another server
   */
  public synchronized boolean authenticatePeer(Peer peer) {
    if (identity != null || this.peer != null && !this.peer.equals(peer)) {
      return false;
    }
    this.peer = peer;
    return true;
  }

  /** The server this connection authenticated as, if it did. */
  public Optional<Peer> peer() {
    return Optional.ofNullable(peer);
  }

  /**
   * Refuses every later relay on this connection until it closes: a relay was refused for a while
   * ({@code rate_limited}), and those behind it must not overtake it (the peer resends them in order).
   */
  public void holdRelays(long retryAfterMillis) {
    relaysHeldUntil = System.currentTimeMillis() + retryAfterMillis;
    relaysHeld = true;
  }

  /** Whether relays on this connection are refused since one was; with the wait left, at least 1 ms. */
  public OptionalLong relaysHeld() {
    return relaysHeld ? OptionalLong.of(Math.max(1, relaysHeldUntil - System.currentTimeMillis())) : OptionalLong.empty();
  }

  /** Runs {@code action} once the connection is closed (at once if it already is). */
  public void onClose(Runnable action) {
    channel.closeFuture().addListener(f -> action.run());
  }

  @Override
  public void push(JsonObject frame) {
    send(JsonWriter.write(frame));
  }

  /**
   * Sends one encoded frame (without its newline).
   *
   * @return completes when the frame was written to the socket, or failed
   */
  public CompletableFuture<Void> send(byte[] json) {
    return send(Unpooled.wrappedBuffer(json, NEWLINE));
  }

  /**
   * Sends one encoded frame, newline included, after every frame and write queued before it on
   * this connection; takes over {@code frame} (releases it). Closes the connection instead when it
   * is over its output share.
   *
   * @return completes when the frame was written to the socket, or failed
   */
  public CompletableFuture<Void> send(ByteBuf frame) {
    if (!channel.isActive()) {
      frame.release();
      return CompletableFuture.failedFuture(new IllegalStateException("connection closed"));
    }
    if (closeIfOverOutputShare()) {
      frame.release();
      return CompletableFuture.failedFuture(new IllegalStateException("slow reader disconnected"));
    }
    return outbox.send(frame);
  }

  /**
   * Runs {@code write} on the connection's event loop after every frame and write queued before it
   * on this connection, so that what it writes keeps their order (the connection's answers). It
   * writes without flushing: the flush follows. It never runs if the event loop has stopped.
   */
  public void writeInOrder(Runnable write) {
    outbox.execute(write);
  }

  /** Marks the connection as following its mailbox: it is waiting for pushes, not idle. */
  public void markSynced() {
    synced = true;
  }

  /** Whether the connection synced (any thread). */
  public boolean synced() {
    return synced;
  }

  /**
   * Closes the connection once the answer to message {@code id} (received on it) has been written:
   * e.g. the connection's key was just revoked by that very message, whose sender still gets its
   * {@code ack}.
   */
  public void closeAfterAnswering(MessageId id) {
    lastAnswer = id;
  }

  /** Whether the answer to {@code re} is the last this connection gets (see {@link #closeAfterAnswering}). */
  public boolean closesAfter(MessageId re) {
    return re != null && re.equals(lastAnswer);
  }

  /** Whether this connection is over its share of the output budget (any thread). */
  public boolean overOutputShare() {
    return output.over();
  }

  /**
   * Closes the connection if it is over its share of the output budget: pushes and answers alike
   * count, so a client that asks for much and reads nothing is disconnected (it resumes with
   * {@code sync} from its cursor). Called before a frame is queued.
   *
   * @return whether the connection was over its share and is being closed
   */
  public boolean closeIfOverOutputShare() {
    if (!output.over()) {
      return false;
    }
    log.debug("Connection {} reads too slowly ({} bytes waiting, {} for all connections): closing it", this,
        output.pending(), output.allQueued());
    channel.close();
    return true;
  }

  /**
   * Runs {@code resume} once the connection is under its output share again (on its event loop).
   * If it stays over, it is closed after the grace and {@code resume} never runs. For pushes that
   * can wait: the mailbox's, which catch up from the storage.
   */
  public void whenOutputDrains(Runnable resume) {
    output.whenDrained(resume);
  }

  @Override
  public boolean isOpen() {
    return channel.isActive();
  }

  @Override
  public void close() {
    channel.close();
  }

  @Override
  public String toString() {
    return id + "@" + channel.remoteAddress();
  }
}
