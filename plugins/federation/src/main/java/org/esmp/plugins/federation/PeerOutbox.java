package org.esmp.plugins.federation;

import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import org.esmp.api.Address;
import org.esmp.api.ErrorCode;
import org.esmp.api.JsonCodec;
import org.esmp.api.RejectedException;
import org.esmp.api.Reply;
import org.esmp.api.Request;
import org.esmp.api.SignedMessage;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Everything this server sends to one domain's server, on a thread of its own: connects when there
 * is something to send, pipelines the outbox entries as delivery relays ({@value #WINDOW} in
 * flight, in cursor order per address) and forwarded messages on one connection, advances the sent
 * cursors by the answers ({@link OutboxCursors}), and on a failure closes the connection, waits
 * ({@link Backoff}, or the peer's {@code retry_after_ms}) and sends again from the sent cursors.
 * An idle connection is closed after a minute. {@link #flush}, {@link #seen}, {@link #sweepSoon}
 * and {@link #forward} only hand work to that thread, and may be called from any.
 */
final class PeerOutbox implements AutoCloseable {

  /** Relays sent and not answered yet, at most. */
  static final int WINDOW = 64;

  private static final Logger log = LoggerFactory.getLogger(PeerOutbox.class);
  private static final long IDLE_MILLIS = 60_000;
  private static final long REFRESH_MILLIS = 200;
  private static final long STATUS_MILLIS = 60_000;
  private static final long JOIN_MILLIS = 5_000;
  private static final int DEFAULT_MAX_FRAME = 65_536;
  /** What a relay may add to the peer's {@code max_frame}: its own fields around the message. */
  private static final int RELAY_OVERHEAD = 4096;

  /** A message to forward and the answer its sender waits for. */
  record Forward(Request request, CompletableFuture<Reply> answer) {}

  /** A frame written and not answered yet, or a refusal decided here that waits for its turn. */
  private sealed interface Pending {}

  private record Sent(String id, OutboxCursors.Outgoing outgoing) implements Pending {}

  private record Forwarded(String id, Forward forward) implements Pending {}

  private record TooLarge(OutboxCursors.Outgoing outgoing) implements Pending {}

  /** What this peer's user of the outbox set it to do next (the peer's thread is a worker). */
  private enum Wake { SEND, SWEEP }

  private final String domain;
  private final PeerConnector connector;
  private final Frames frames;
  private final Notices notices;
  private final JsonCodec json;
  private final OutboxCursors cursors;
  private final OutboxSweep sweep;
  private final PeerStatus status;
  private final Backoff backoff;
  private final OutboxLease lease;
  private final long answerTimeoutMillis;
  private final Thread thread;

  private final Object lock = new Object();
  private boolean work; // guarded by lock: there may be entries to send
  private boolean seen; // guarded by lock: the peer is up, do not wait for the backoff
  private boolean sweepDue; // guarded by lock
  private final ArrayDeque<Forward> forwards = new ArrayDeque<>(); // guarded by lock
  private volatile boolean closed;
  private volatile PeerConnection connection;

  // The peer's thread alone:
  private final ArrayDeque<Pending> inFlight = new ArrayDeque<>();
  private int maxFrame = DEFAULT_MAX_FRAME;
  private long retryAt;
  private boolean rateLimited;
  private long lastRefresh;
  private long lastStatus;

  PeerOutbox(String domain, FederationParts parts) {
    this.domain = domain;
    this.connector = parts.connector();
    this.frames = parts.frames();
    this.notices = parts.notices();
    this.json = parts.json();
    this.cursors = new OutboxCursors(domain, parts.federation(), parts.store());
    this.sweep = new OutboxSweep(domain, parts.federation(), parts.notices());
    this.status = new PeerStatus(domain);
    this.backoff = new Backoff(parts.federation().settings().retryMax());
    this.lease = new OutboxLease(domain, parts.store(), parts.leaseHolder(), parts.leaseMillis());
    this.answerTimeoutMillis = parts.federation().settings().answerTimeout().toMillis();
    this.thread = new Thread(this::run, "federation-" + domain);
    thread.setDaemon(true);
  }

  void start() {
    thread.start();
  }

  /** New entries may wait: send them, unless the peer is down and the backoff has not passed. */
  void flush() {
    synchronized (lock) {
      work = true;
      lock.notifyAll();
    }
  }

  /** The peer's server connected to this one: it is up, send at once. */
  void seen() {
    synchronized (lock) {
      work = true;
      seen = true;
      lock.notifyAll();
    }
  }

  /** Apply the outbox's bounds soon, and log how it stands. */
  void sweepSoon() {
    synchronized (lock) {
      sweepDue = true;
      lock.notifyAll();
    }
  }

  /** Sends {@code request}'s message to the peer; {@code answer} completes with the peer's answer. */
  void forward(Request request, CompletableFuture<Reply> answer) {
    synchronized (lock) {
      if (closed) {
        answer.completeExceptionally(unavailable("federation is stopping"));
        return;
      }
      forwards.add(new Forward(request, answer));
      lock.notifyAll();
    }
  }

  PeerStatus status() {
    return status;
  }

  private void run() {
    while (!closed) {
      try {
        Wake wake = awaitWork();
        if (wake == Wake.SWEEP) {
          sweep();
        } else if (wake == Wake.SEND) {
          send();
        }
      } catch (PeerException e) {
        failed(e);
      } catch (RuntimeException e) {
        failed(new PeerException("unexpected failure: " + e, e));
      }
    }
    PeerConnection open = connection;
    if (open != null) {
      connector.release(open);
    }
    failForwards("federation is stopping");
  }

  /** Waits until there is something to do now; null once closed. */
  private Wake awaitWork() {
    synchronized (lock) {
      while (!closed) {
        if (sweepDue) {
          sweepDue = false;
          return Wake.SWEEP;
        }
        long now = System.currentTimeMillis();
        boolean waiting = work || !forwards.isEmpty();
        // A forward's sender waits: try at once, unless the peer asked for a pause.
        boolean may = now >= retryAt || seen || (!forwards.isEmpty() && !rateLimited);
        if (waiting && may) {
          work = false;
          seen = false;
          return Wake.SEND;
        }
        try {
          lock.wait(waiting ? Math.max(1, retryAt - now) : 0);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return null;
        }
      }
      return null;
    }
  }

  private void sweep() throws PeerException {
    long now = System.currentTimeMillis();
    cursors.refresh();
    if (!holdLease(now)) {
      status.depth(cursors.depth());
      return; // the server holding the lease applies the bounds, once
    }
    sweep.sweep(cursors, now);
    status.depth(cursors.depth());
    if (now - lastStatus >= STATUS_MILLIS - 1_000) {
      lastStatus = now;
      status.logWaiting();
    }
  }

  private void send() throws PeerException {
    refresh();
    boolean mine = holdLease(System.currentTimeMillis());
    if (connection == null) {
      if (!(mine && cursors.hasUnwritten()) && !hasForwards()) {
        standByIfNotMine(mine);
        return;
      }
      connect();
    }
    pump();
  }

  /**
   * Whether this server may send the outbox now ({@link OutboxLease}); when it just took the lease,
   * the sent cursors are read again first: another server may have sent until then.
   */
  private boolean holdLease(long now) {
    boolean mine = lease.held(now);
    if (mine && lease.gained()) {
      cursors.reload();
      refresh();
    }
    return mine;
  }

  /** Another server sends this outbox: look again once its lease may have run out. */
  private void standByIfNotMine(boolean mine) {
    if (mine || !cursors.hasUnwritten()) {
      return;
    }
    retryAt = System.currentTimeMillis() + Math.min(OutboxLease.RENEW_MILLIS, Math.max(100, lease.ttlMillis() / 3));
    synchronized (lock) {
      work = true;
    }
  }

  private void refresh() {
    cursors.refresh();
    lastRefresh = System.currentTimeMillis();
    status.depth(cursors.depth());
  }

  private void connect() throws PeerException {
    PeerConnector.Opened opened;
    try {
      opened = connector.open(domain);
    } catch (PeerException e) {
      failForwards(domain + " cannot be reached: " + e.getMessage());
      throw e;
    }
    connection = opened.connection();
    // A server's connection may send a relay of up to max_frame + 4,096 bytes: the message it
    // carries may be max_frame long (docs/PROTOCOL.md, relay).
    maxFrame = (opened.hello().get("max_frame") instanceof JsonNumber n && n.longValue() > 0
        ? (int) Math.min(Integer.MAX_VALUE - RELAY_OVERHEAD, n.longValue()) : DEFAULT_MAX_FRAME) + RELAY_OVERHEAD;
    log.info("Federation with {}: connected to {} over {}, {}", domain, opened.connection().endpoint(),
        opened.connection().transport(), opened.trust());
  }

  /** Sends and reads answers until nothing is left and the connection has idled out. */
  private void pump() throws PeerException {
    while (!closed) {
      takeWork();
      boolean mine = fill();
      if (inFlight.isEmpty()) {
        cursors.commit();
        status.depth(cursors.depth());
        if (!mine && cursors.hasUnwritten()) {
          standByIfNotMine(false);
          return;
        }
        if (!awaitWhileIdle()) {
          log.debug("Federation with {}: closing the idle connection", domain);
          closeConnection();
          return;
        }
        if (connection.closedByPeer()) {
          // The peer closed it while it idled (it restarted, say): a new one, not a failure.
          log.debug("Federation with {}: the idle connection was closed by the peer; connecting again", domain);
          closeConnection();
          return;
        }
        continue;
      }
      // Taken off only once answered: a failure meanwhile finds it there, and fails a forward at once.
      Pending pending = inFlight.peek();
      if (pending instanceof TooLarge tooLarge) {
        inFlight.poll();
        refuse(tooLarge.outgoing(), ErrorCode.FRAME_TOO_LARGE.wire());
      } else {
        JsonObject answer = readAnswer();
        inFlight.poll();
        answered(pending, answer);
      }
      if (inFlight.isEmpty() || !connection.hasBuffered() || cursors.uncommitted() >= OutboxCursors.PAGE) {
        cursors.commit();
        status.depth(cursors.depth());
      }
    }
  }

  /** Picks up flags set while sending: new entries (re-read at most every 200 ms), a sweep. */
  private void takeWork() throws PeerException {
    boolean refresh;
    boolean sweepNow;
    synchronized (lock) {
      long now = System.currentTimeMillis();
      refresh = work && (inFlight.isEmpty() || now - lastRefresh >= REFRESH_MILLIS);
      if (refresh) {
        work = false;
        seen = false;
      }
      sweepNow = sweepDue;
      sweepDue = false;
    }
    if (refresh) {
      refresh();
    }
    if (sweepNow) {
      sweep();
    }
  }

  /**
   * Writes forwards, then outbox entries (when this server holds the outbox's lease), until
   * {@value #WINDOW} are in flight; whether it holds the lease.
   */
  private boolean fill() throws PeerException {
    boolean mine;
    long now = System.currentTimeMillis();
    PeerConnection open = connection;
    try {
      while (inFlight.size() < WINDOW) {
        Forward forward = pollForward();
        if (forward == null) {
          break;
        }
        if (forward.answer().isDone()) {
          continue; // timed out while it waited
        }
        Optional<Address> from = forward.request().sender();
        if (from.isEmpty()) {
          forward.answer().completeExceptionally(new RejectedException(ErrorCode.BAD_FIELD, "no sender to relay for"));
          continue;
        }
        SignedMessage frame = frames.forward(from.get(), forward.request().message().fields(), now);
        byte[] bytes = json.write(frame.fields());
        if (bytes.length > maxFrame) {
          forward.answer().completeExceptionally(new RejectedException(ErrorCode.FRAME_TOO_LARGE,
              "relayed, the message would be longer than the " + maxFrame + " bytes " + domain + " takes in a relay"));
          continue;
        }
        open.write(bytes);
        inFlight.add(new Forwarded(frame.id().hex(), forward));
      }
      int free = WINDOW - inFlight.size();
      mine = holdLease(now);
      if (free > 0 && mine) {
        for (OutboxCursors.Outgoing outgoing : cursors.next(free)) {
          SignedMessage frame = frames.delivery(outgoing.recipient(), outgoing.entry(), now);
          byte[] bytes = json.write(frame.fields());
          if (bytes.length > maxFrame) {
            inFlight.add(new TooLarge(outgoing)); // refused in its turn, so that the cursor keeps order
            continue;
          }
          open.write(bytes);
          inFlight.add(new Sent(frame.id().hex(), outgoing));
        }
      }
      open.flush();
    } catch (PeerException e) {
      throw e;
    } catch (java.io.IOException e) {
      throw new PeerException(open.endpoint() + ": writing failed: " + e.getMessage(), e);
    }
    return mine;
  }

  private JsonObject readAnswer() throws PeerException {
    try {
      while (true) {
        JsonObject frame = connection.read(answerTimeoutMillis);
        if (!frame.string("type").orElse("").equals("ping")) {
          return frame;
        }
      }
    } catch (PeerException e) {
      throw e;
    } catch (java.io.IOException e) {
      throw new PeerException(connection.endpoint() + ": reading failed: " + e.getMessage(), e);
    }
  }

  /** Takes the peer's answer to the oldest frame in flight. */
  private void answered(Pending pending, JsonObject answer) throws PeerException {
    String id = pending instanceof Sent s ? s.id() : ((Forwarded) pending).id();
    String re = answer.string("re").orElse("");
    if (!re.equals(id)) {
      throw new PeerException(connection.endpoint() + " answered " + answer.string("type").orElse("?")
          + " " + answer.string("code").orElse("") + " for " + (re.isEmpty() ? "no frame" : re)
          + " where the answer to " + id + " was due");
    }
    long now = System.currentTimeMillis();
    status.succeeded(now);
    backoff.reset();
    rateLimited = false;
    if (pending instanceof Forwarded forwarded) {
      forwarded.forward().answer().complete(Frames.reply(answer));
      if (answer.string("code").filter(ErrorCode.RATE_LIMITED.wire()::equals).isPresent()) {
        throw PeerException.rateLimited(Outcome.retryAfterMillis(answer)); // so is every later relay here
      }
      return;
    }
    OutboxCursors.Outgoing outgoing = ((Sent) pending).outgoing();
    Outcome outcome = Outcome.of(answer, outgoing.recipient());
    if (outcome instanceof Outcome.Delivered) {
      cursors.answered(outgoing.recipient(), outgoing.entry().cursor(), Optional.empty());
    } else if (outcome instanceof Outcome.Refused refused) {
      refuse(outgoing, refused.code());
    } else if (outcome instanceof Outcome.Retry retry) {
      throw retry.retryAfterMillis() > 0 ? PeerException.rateLimited(retry.retryAfterMillis())
          : new PeerException(domain + " answered a relay with " + retry.why());
    }
  }

  private void refuse(OutboxCursors.Outgoing outgoing, String code) {
    log.info("Federation with {}: message {} for {} refused for good ({}); its sender is told", domain,
        outgoing.entry().id(), outgoing.recipient(), code);
    cursors.answered(outgoing.recipient(), outgoing.entry().cursor(),
        notices.failed(outgoing.entry(), outgoing.recipient(), code, System.currentTimeMillis()));
  }

  /** Waits on an idle connection for more work; false when none came within a minute. */
  private boolean awaitWhileIdle() {
    long until = System.currentTimeMillis() + IDLE_MILLIS;
    synchronized (lock) {
      while (!closed) {
        if (work || sweepDue || !forwards.isEmpty()) {
          return true;
        }
        long left = until - System.currentTimeMillis();
        if (left <= 0) {
          return false;
        }
        try {
          lock.wait(left);
        } catch (InterruptedException e) {
          Thread.currentThread().interrupt();
          return false;
        }
      }
      return false;
    }
  }

  /** A failure: keeps what was answered, closes the connection, and waits before sending again. */
  private void failed(PeerException failure) {
    try {
      cursors.commit();
    } catch (PeerException e) {
      log.debug("Federation with {}: {}", domain, e.getMessage());
    }
    cursors.rewind();
    for (Pending pending : inFlight) {
      if (pending instanceof Forwarded forwarded) {
        forwarded.forward().answer().completeExceptionally(unavailable(domain + ": " + failure.getMessage()));
      }
    }
    inFlight.clear();
    closeConnection();
    if (closed) {
      return;
    }
    long wait = failure.retryAfterMillis() > 0 ? backoff.rateLimitedMillis(failure.retryAfterMillis())
        : backoff.nextMillis();
    rateLimited = failure.retryAfterMillis() > 0;
    retryAt = System.currentTimeMillis() + wait;
    synchronized (lock) {
      work = true;
    }
    status.failed(failure, wait);
  }

  private void closeConnection() {
    PeerConnection open = connection;
    connection = null;
    if (open != null) {
      connector.release(open);
    }
  }

  private Forward pollForward() {
    synchronized (lock) {
      return forwards.poll();
    }
  }

  private boolean hasForwards() {
    synchronized (lock) {
      return !forwards.isEmpty();
    }
  }

  private void failForwards(String why) {
    List<Forward> failing;
    synchronized (lock) {
      failing = new ArrayList<>(forwards);
      forwards.clear();
    }
    failing.forEach(f -> f.answer().completeExceptionally(unavailable(why)));
  }

  private static RejectedException unavailable(String why) {
    return new RejectedException(ErrorCode.PEER_UNAVAILABLE, why);
  }

  /** Tells the thread to stop and closes the connection, without waiting: see {@link #close}. */
  void stop() {
    synchronized (lock) {
      closed = true;
      lock.notifyAll();
    }
    PeerConnection open = connection;
    if (open != null) {
      open.close();
    }
    thread.interrupt();
  }

  /** Stops the thread and closes the connection; waits a little for the thread to end. */
  @Override
  public void close() {
    stop();
    try {
      thread.join(JOIN_MILLIS);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
    }
    failForwards("federation is stopping");
  }
}
