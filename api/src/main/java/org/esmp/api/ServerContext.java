package org.esmp.api;

import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.Set;
import org.pf4j.ExtensionPoint;

/**
 * What the server offers an extension. An extension class with a public constructor taking a
 * {@code ServerContext} gets it there; otherwise its no-argument constructor is used.
 *
 * <p><b>Lifecycle of an extension.</b> Each extension class of a plugin is instantiated once each
 * time the plugin starts, on the plugin's own thread, within the plugin call timeout (a storage
 * opening its files at server start has no limit). Plugins other than the storage may be started,
 * stopped and started again while the server runs, when their jar is added to, replaced in or
 * removed from the plugins directory. When its plugin stops, after its calls in flight are done, an
 * extension that implements {@link AutoCloseable} has {@code close()} called once: stop its threads
 * and release what it holds there, so that the plugin's classes can be unloaded.
 *
 * <p>Every method here is thread-safe.
 */
public interface ServerContext {

  /** The server's main domain, as in {@code hello}. */
  String domain();

  /** Every domain this server serves, the main one included. */
  Set<String> domains();

  /** The server's data directory; a plugin keeps its files in a subdirectory named after itself. */
  Path dataDirectory();

  /**
   * This plugin's store: its own key-value spaces, and mailbox appends that the server makes
   * durable and then pushes. Fails (its reads throw, its commits fail) with
   * {@link IllegalStateException} while no storage plugin is installed.
   */
  Store store();

  /**
   * Whether {@code address} has a mailbox on this server: its domain is one this server serves and
   * the address exists. Whose keys it has is the server's business, not a plugin's.
   */
  boolean hasMailbox(Address address);

  /** Mailboxes: durable delivery to addresses and live push to their connections. */
  Mailboxes mailboxes();

  /**
   * The extensions of type {@code type} of every running plugin: how one plugin uses a service
   * another provides (for example {@link org.esmp.api.group.GroupLedger}). Look them up when
   * needed, not once in a constructor: plugins may start in any order, and come and go while the
   * server runs. The storage ({@link org.esmp.api.spi.Storage}) is the server's: asking for it
   * gets an empty list.
   */
  <T extends ExtensionPoint> List<T> extensions(Class<T> type);

  /** The server's JSON reader and writer. */
  JsonCodec json();

  /** Most distinct recipients ({@code to} and {@code cc} together) a direct message may have. */
  int maxRecipients();

  /**
   * Most members one group may have ({@code max_group_members}, 1,000 by default): a change that
   * would make a group larger is {@code forbidden} (ESMP/1 section 3).
   */
  default int maxGroupMembers() {
    return 1000;
  }

  /**
   * This plugin's own settings, from the operator: the members of its entry under {@code
   * plugin_settings} in esmp.yaml (keyed by plugin id), each value as text, and those the server's
   * flags set for it (such as {@code --jdbc-url} for {@code storage-postgres}). Empty when none
   * (since 1.3).
   */
  default Map<String, String> settings() {
    return Map.of();
  }

  /**
   * Whether messages for {@code address}, of a domain this server does not serve, go to that
   * domain's server (ESMP/1 section 8): true while a {@link org.esmp.api.federation.Relay} runs.
   * A delivery appends such an address's entries as it does a local mailbox's; the server keeps
   * them for the relay, which sends them on (since 1.3).
   */
  default boolean relays(Address address) {
    return false;
  }

  /**
   * What the server offers a federation plugin: its server key, its peers' endpoints, and the
   * entries kept for addresses of other domains (since 1.3).
   *
   * @throws UnsupportedOperationException on a server older than 1.3
   */
  default org.esmp.api.federation.Federation federation() {
    throw new UnsupportedOperationException("federation needs a server with plugin API 1.3");
  }
}
