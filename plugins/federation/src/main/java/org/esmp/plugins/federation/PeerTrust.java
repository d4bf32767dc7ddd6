package org.esmp.plugins.federation;

import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.esmp.api.ConflictException;
import org.esmp.api.Ed25519Key;
import org.esmp.api.Store;
import org.esmp.api.Writes;
import org.esmp.api.federation.Federation;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

/**
 * Which server key a domain's server is trusted with (ESMP/1 section 8): the operator's pin; else
 * the key remembered from an earlier connection (space {@value #SPACE}, key: the domain); else,
 * over TLS valid for the domain, the key its {@code hello} offers, remembered from then on (trust
 * on first use). Without a pin only TLS valid for the domain is trusted at all. A key that differs
 * from the pinned or remembered one is refused. Thread-safe.
 */
final class PeerTrust {

  /** Where remembered keys are kept: key the domain, value the key's base64. */
  static final String SPACE = "federation.keys";

  private static final Logger log = LoggerFactory.getLogger(PeerTrust.class);

  /** How a peer's key came to be trusted, for the log line of a connection. */
  enum How {
    PINNED("key pinned"),
    REMEMBERED("key remembered"),
    FIRST_USE("key trusted on first use, now remembered");

    private final String text;

    How(String text) {
      this.text = text;
    }

    @Override
    public String toString() {
      return text;
    }
  }

  private final Federation federation;
  private final Store store;

  PeerTrust(Federation federation, Store store) {
    this.federation = federation;
    this.store = store;
  }

  /** The operator's pin for {@code domain}, if any. */
  Optional<Ed25519Key> pin(String domain) {
    return federation.configuredPeer(domain).flatMap(Federation.Peer::pin);
  }

  /** The key remembered for {@code domain}, if any. */
  Optional<Ed25519Key> remembered(String domain) {
    return store.get(SPACE, domain).map(b -> Ed25519Key.fromBase64(new String(b, StandardCharsets.US_ASCII)));
  }

  /** The key trusted for {@code domain} without connecting: pinned or remembered. */
  Optional<Ed25519Key> known(String domain) {
    Optional<Ed25519Key> pin = pin(domain);
    return pin.isPresent() ? pin : remembered(domain);
  }

  /**
   * Whether {@code offered}, the {@code server_key} of {@code domain}'s {@code hello}, is trusted;
   * remembers it on first use.
   *
   * @param tlsValid whether it came over TLS whose certificate is valid for {@code domain}
   * @throws PeerException.KeyRefused when it differs from the pinned or remembered key
   * @throws PeerException when it cannot be trusted (no pin, no valid TLS) or not remembered
   */
  How accept(String domain, Ed25519Key offered, boolean tlsValid) throws PeerException {
    Optional<Ed25519Key> pin = pin(domain);
    How how = decide(domain, pin, pin.isPresent() ? Optional.empty() : remembered(domain), offered, tlsValid);
    if (how == How.FIRST_USE) {
      remember(domain, offered);
    }
    return how;
  }

  /** The decision of {@link #accept}, without the store. */
  static How decide(String domain, Optional<Ed25519Key> pin, Optional<Ed25519Key> remembered, Ed25519Key offered,
      boolean tlsValid) throws PeerException {
    if (pin.isPresent()) {
      if (!pin.get().equals(offered)) {
        throw new PeerException.KeyRefused(domain + "'s server offers key " + offered + " but " + pin.get()
            + " is pinned for it");
      }
      return How.PINNED;
    }
    if (!tlsValid) {
      throw new PeerException("no key is pinned for " + domain + ", so only TLS with a certificate valid for "
          + domain + " is trusted");
    }
    if (remembered.isPresent()) {
      if (!remembered.get().equals(offered)) {
        throw new PeerException.KeyRefused(domain + "'s server offers key " + offered + " but it was "
            + remembered.get() + " before (remembered in " + SPACE + ")");
      }
      return How.REMEMBERED;
    }
    return How.FIRST_USE;
  }

  private void remember(String domain, Ed25519Key key) throws PeerException {
    Writes writes = Writes.builder().expectAbsent(SPACE, domain)
        .put(SPACE, domain, key.base64().getBytes(StandardCharsets.US_ASCII)).build();
    try {
      store.commit(writes).toCompletableFuture().get(30, TimeUnit.SECONDS);
      log.info("Federation: remembered the key {} of {} (learned over TLS valid for it)", key, domain);
    } catch (ExecutionException e) {
      if (e.getCause() instanceof ConflictException) {
        decide(domain, Optional.empty(), remembered(domain), key, true); // remembered just now, by another connection
        return;
      }
      throw new PeerException("could not remember the key of " + domain + ": " + e.getCause(), e.getCause());
    } catch (TimeoutException e) {
      throw new PeerException("could not remember the key of " + domain + ": the storage did not answer", e);
    } catch (InterruptedException e) {
      Thread.currentThread().interrupt();
      throw new PeerException("interrupted while remembering the key of " + domain, e);
    }
  }
}
