package org.esmp.server.session;

import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import java.security.SecureRandom;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.AtomicReference;
import org.esmp.api.Address;
import org.esmp.api.Session;
import org.esmp.api.json.JsonObject;
import org.esmp.server.json.JsonWriter;

/** One connection's session: its {@code hello} challenge and the address it authenticated as. */
public final class ConnectionSession implements Session {

  private static final AtomicLong IDS = new AtomicLong();
  private static final byte[] NEWLINE = {'\n'};
  private static final int CHALLENGE_BYTES = 32;

  private final String id;
  private final Channel channel;
  private final String challenge;
  private final AtomicReference<Address> address = new AtomicReference<>();

  public ConnectionSession(Channel channel, SecureRandom random) {
    this.id = "c" + IDS.incrementAndGet();
    this.channel = channel;
    byte[] bytes = new byte[CHALLENGE_BYTES];
    random.nextBytes(bytes);
    this.challenge = Base64.getEncoder().encodeToString(bytes);
  }

  @Override
  public String id() {
    return id;
  }

  /** The base64 challenge sent in this connection's {@code hello}. */
  public String challenge() {
    return challenge;
  }

  @Override
  public Optional<Address> address() {
    return Optional.ofNullable(address.get());
  }

  /**
   * Marks the connection as authenticated as {@code who}.
   *
   * @return {@code false} when it is already authenticated as another address
   */
  public boolean authenticate(Address who) {
    return address.compareAndSet(null, who) || who.equals(address.get());
  }

  @Override
  public void push(JsonObject frame) {
    if (channel.isActive()) {
      channel.writeAndFlush(Unpooled.wrappedBuffer(JsonWriter.write(frame), NEWLINE), channel.voidPromise());
    }
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
