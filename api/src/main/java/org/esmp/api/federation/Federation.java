package org.esmp.api.federation;

import java.security.cert.Certificate;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.MailboxEntry;
import org.esmp.api.SignedMessage;
import org.esmp.api.json.JsonObject;

/**
 * What the server offers a federation plugin ({@link org.esmp.api.ServerContext#federation()}):
 * its server key, where other domains' servers are, and the <b>outbox</b>.
 *
 * <p><b>The outbox.</b> A delivery appends an entry for an address of another domain (see {@link
 * org.esmp.api.ServerContext#relays}) as it does for a local one: into that address's mailbox on
 * this server, in the same durable commit as the sender's {@code ack}, with a cursor of its own. The
 * server remembers which such addresses have entries, in that commit too; {@link #outboxDomains()},
 * {@link #outboxAddresses} and {@link #read} let the relay find them, and {@link Relay#appended}
 * tells it when there are new ones. What the relay has sent is its own to keep, in its store.
 * Retention trims these entries as it trims every mailbox.
 *
 * <p>Thread-safe. {@link #endpoints} may block on DNS; every other method answers from memory or
 * the storage.
 */
public interface Federation {

  /** This server's key, as {@code hello}'s {@code server_key}. */
  Ed25519Key serverKey();

  /**
   * {@code unsigned}, a message object without {@code signature} and {@code sender_pubkey}, signed
   * with the server key: as a frame to another server ({@code auth}, {@code relay}) or a notice from
   * {@code postmaster} ({@code delivery_failed}).
   */
  SignedMessage sign(JsonObject unsigned);

  /**
   * The {@code tls_server_end_point} channel binding (RFC 5929 section 4.1) of the certificate a
   * server presented: what an {@code auth} over TLS carries so that it cannot be relayed.
   */
  String channelBinding(Certificate serverCertificate);

  /** The peer configured for {@code domain} ({@code peers} in esmp.yaml, {@code --peer}), if any. */
  Optional<Peer> configuredPeer(String domain);

  /**
   * Where the server of {@code domain} listens, to try in order: the configured peer; else the
   * targets of DNS SRV {@code _esmp-server._tcp.DOMAIN} (RFC 2782 order); else {@code DOMAIN:5888}.
   * May block on DNS: call it on a thread of the plugin's own.
   */
  List<Endpoint> endpoints(String domain);

  /** The operator's settings for federation. */
  Settings settings();

  /** The domains for which the outbox has, or had, entries. */
  List<String> outboxDomains();

  /** The addresses of {@code domain} that have, or had, outbox entries, in address order. */
  List<Address> outboxAddresses(String domain);

  /** Entries of {@code address}'s outbox with cursor after {@code afterCursor}, oldest first; at most {@code limit}. */
  List<MailboxEntry> read(Address address, long afterCursor, int limit);

  /** The newest cursor of {@code address}'s outbox, 0 when it has none. */
  long lastCursor(Address address);

  /**
   * A configured peer.
   *
   * @param domain the domain it serves
   * @param host its host name or IP address
   * @param port its port
   * @param pin its server key, if the operator pinned it: then only that key is trusted, and
   *     plaintext is allowed
   */
  record Peer(String domain, String host, int port, Optional<Ed25519Key> pin) {
    public Peer {
      Objects.requireNonNull(domain, "domain");
      Objects.requireNonNull(host, "host");
      Objects.requireNonNull(pin, "pin");
    }
  }

  /** A host and port to connect to. */
  record Endpoint(String host, int port) {
    public Endpoint {
      Objects.requireNonNull(host, "host");
    }

    @Override
    public String toString() {
      return host.contains(":") ? "[" + host + "]:" + port : host + ":" + port;
    }
  }

  /**
   * The operator's settings for federation.
   *
   * @param connectTimeout how long connecting to a peer, TLS and its {@code hello} included, may take
   * @param answerTimeout how long a peer may take to answer a relay; a forwarded message (to a
   *     group's home) not answered by then is {@code peer_unavailable}
   * @param retryMax the longest wait between attempts to reach a peer that is down
   * @param outboxMaxMessages most entries waiting for one domain; past it the oldest become
   *     {@code delivery_failed} notices
   * @param outboxMaxAge how long an entry may wait; past it, it becomes a {@code delivery_failed}
   *     notice. Shorter than the retention period, so that the entry is still there to tell of
   * @param tlsTrust PEM certificates to trust for peers' TLS besides the system's (for a private CA),
   *     if any
   */
  record Settings(Duration connectTimeout, Duration answerTimeout, Duration retryMax, int outboxMaxMessages,
      Duration outboxMaxAge, Optional<java.nio.file.Path> tlsTrust) {
    public Settings {
      Objects.requireNonNull(connectTimeout, "connectTimeout");
      Objects.requireNonNull(answerTimeout, "answerTimeout");
      Objects.requireNonNull(retryMax, "retryMax");
      Objects.requireNonNull(outboxMaxAge, "outboxMaxAge");
      Objects.requireNonNull(tlsTrust, "tlsTrust");
    }
  }
}
