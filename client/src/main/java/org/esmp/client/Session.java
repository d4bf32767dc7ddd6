package org.esmp.client;

import com.fasterxml.jackson.databind.node.ObjectNode;
import java.io.IOException;
import java.time.Duration;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;

/**
 * One client's session with its server, across connections: the current {@link Connection},
 * signing and sending on it, waiting for answers, {@code auth} and {@code sync}, and, for a
 * synced client with automatic reconnect, a new connection (authenticated and synced again from
 * the {@link Mailbox}'s cursor) when the current one is lost.
 *
 * <p><b>Threads.</b> Every method may be called from any thread; the blocking ones ({@link
 * #call}, {@link #auth}, {@link #sync}) wait at most the answer timeout and must not be called
 * on a reader thread (from a {@link DeliveryListener}), which is the one that would read the
 * answer. Deliveries reach the mailbox on the current connection's reader thread; those of a
 * connection no longer current are dropped.
 */
final class Session {

  private final String host;
  private final int port;
  private final Tls tls;
  private final Identity identity;
  private final Duration connectTimeout;
  private final Duration answerTimeout;
  private final boolean autoReconnect;
  private final Mailbox mailbox;
  private final Reconnector<Connection> reconnector;

  private final Object lock = new Object();
  private Connection connection; // guarded by lock
  private volatile boolean closed;

  Session(String host, int port, Tls tls, Identity identity, Duration connectTimeout,
      Duration answerTimeout, boolean autoReconnect) {
    this.host = host;
    this.port = port;
    this.tls = tls;
    this.identity = identity;
    this.connectTimeout = connectTimeout;
    this.answerTimeout = answerTimeout;
    this.autoReconnect = autoReconnect;
    this.mailbox = new Mailbox(identity);
    this.reconnector = new Reconnector<>(new Resumption());
  }

  /** Opens the first connection and reads its {@code hello}. */
  void connect() throws IOException {
    Connection first = open();
    synchronized (lock) {
      connection = first;
    }
  }

  /** The current connection's {@code hello}. */
  ObjectNode hello() throws IOException {
    return current().hello();
  }

  /**
   * Signs {@code message} in place as this identity, adding {@code to} ({@code []}) and {@code
   * ts} (now) when absent.
   *
   * @throws IllegalArgumentException for a value that is not I-JSON
   */
  SignedMessage sign(ObjectNode message) {
    if (!message.has("to")) {
      message.putArray("to");
    }
    if (!message.has("ts")) {
      message.put("ts", System.currentTimeMillis());
    }
    return SignedMessage.of(Messages.sign(message, identity.key()));
  }

  /** Writes {@code message} on the current connection; a failure to do so fails the future. */
  CompletableFuture<ObjectNode> send(SignedMessage message) {
    try {
      return write(current(), message);
    } catch (IOException e) {
      return CompletableFuture.failedFuture(e);
    }
  }

  /** Signs, sends and waits for the answer; an {@code error} is a {@link ServerException}. */
  ObjectNode call(ObjectNode message) throws IOException {
    return await(send(sign(message)));
  }

  /** Authenticates the current connection; true when that registered the address. */
  boolean auth() throws IOException {
    return auth(current());
  }

  /** From now on, deliveries go to {@code listener}; then syncs the current connection. */
  long sync(DeliveryListener listener, boolean saveAfter) throws IOException {
    mailbox.listen(listener, saveAfter);
    return sync(current());
  }

  /** The answer, waiting at most the answer timeout; an exceptional answer is thrown. */
  ObjectNode await(CompletableFuture<ObjectNode> answer) throws IOException {
    try {
      return answer.get(answerTimeout.toMillis(), TimeUnit.MILLISECONDS);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof IOException io) {
        throw io;
      }
      throw new IOException(e.getCause());
    } catch (TimeoutException e) {
      throw new IOException("no answer from " + host + ":" + port + " within " + answerTimeout);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new IOException("interrupted while waiting for an answer", e);
    }
  }

  /** Closes the connection for good; a listener in progress finishes first (unless it is the caller). */
  void close() {
    Connection c;
    synchronized (lock) {
      closed = true;
      c = connection;
    }
    if (c != null) {
      c.close();
      try {
        c.awaitReader(Duration.ofSeconds(5));
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
      }
    }
  }

  private boolean auth(Connection on) throws IOException {
    ObjectNode message = Frames.newMessage("auth");
    ObjectNode body = message.putObject("body");
    body.put("address", identity.address());
    body.put("challenge", on.hello().path("challenge").asText());
    body.put("domain", on.hello().path("domain").asText());
    if (on.tlsBinding() != null) {
      body.put("tls_server_end_point", on.tlsBinding()); // signed with the rest: bound to this server's TLS
    }
    ObjectNode answer = await(write(on, sign(message)));
    EsmpClient.Ack.of(answer); // an ack, or an IOException saying what came instead
    return answer.path("registered").asBoolean();
  }

  private long sync(Connection on) throws IOException {
    ObjectNode message = Frames.newMessage("sync");
    message.putObject("body").put("since", mailbox.since());
    ObjectNode answer = await(write(on, sign(message)));
    return answer.path("cursor").asLong();
  }

  private Connection current() throws IOException {
    synchronized (lock) {
      if (closed) {
        throw new ConnectionClosedException("client is closed", null);
      }
      if (connection == null || !connection.isOpen()) {
        throw new ConnectionClosedException("not connected to " + host + ":" + port
            + (autoReconnect && mailbox.listener() != null ? " (reconnecting)" : ""), null);
      }
      return connection;
    }
  }

  private Connection open() throws IOException {
    return Connection.open(host, port, tls, connectTimeout, answerTimeout, new Heard());
  }

  private static CompletableFuture<ObjectNode> write(Connection on, SignedMessage message)
      throws IOException {
    return on.write(message.id(), message.bytes());
  }

  /** What this session does with what its connections' reader threads hear. */
  private final class Heard implements Connection.Events {
    @Override
    public void delivered(Connection from, ObjectNode frame) {
      synchronized (lock) {
        if (from != connection) {
          return; // an old connection's last words
        }
      }
      mailbox.deliver(frame);
    }

    @Override
    public void ended(Connection which, Throwable cause) {
      DeliveryListener l = mailbox.listener();
      if (autoReconnect && !closed) {
        reconnector.resume(which);
      } else if (l != null) {
        l.onClosed(cause);
      }
    }
  }

  /** What the reconnect thread does with this session. */
  private final class Resumption implements Reconnector.Target<Connection> {
    @Override
    public boolean needsResume(Connection lost) {
      synchronized (lock) {
        return !closed && autoReconnect && mailbox.listener() != null && connection == lost;
      }
    }

    @Override
    public void reconnect() throws IOException {
      Connection fresh = open();
      synchronized (lock) {
        if (closed) {
          fresh.close();
          return;
        }
        connection = fresh;
      }
      try {
        auth(fresh);
        sync(fresh);
      } catch (ServerException refused) {
        throw refused; // refused() closes it, after forgetting the listener
      } catch (IOException e) {
        fresh.close();
        throw e;
      }
    }

    @Override
    public void refused(ServerException why) {
      // The server is up but will not have us (e.g. the key was revoked): retrying won't help.
      DeliveryListener l = mailbox.stop(); // so that closing the connection starts no other round
      synchronized (lock) {
        if (connection != null) {
          connection.close();
        }
      }
      if (l != null) {
        l.onClosed(why);
      }
    }

    @Override
    public boolean isClosed() {
      return closed;
    }

    @Override
    public Connection lostConnection() {
      synchronized (lock) {
        return connection != null && !connection.isOpen() ? connection : null;
      }
    }
  }
}
