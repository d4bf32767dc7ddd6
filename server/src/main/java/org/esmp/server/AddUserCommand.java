package org.esmp.server;

import java.time.Clock;
import java.util.Set;
import java.util.concurrent.Callable;
import java.util.concurrent.TimeUnit;
import org.esmp.api.Address;
import org.esmp.api.Ed25519Key;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.server.store.Commits;
import org.esmp.server.store.ServerMailboxes;
import org.esmp.server.config.ConfigException;
import org.esmp.server.config.ServerConfig;
import org.esmp.server.data.DataDirectory;
import org.esmp.server.data.DataDirectoryInUseException;
import org.esmp.json.ServerJsonCodec;
import org.esmp.server.mailbox.MailboxService;
import org.esmp.server.metrics.ServerMetrics;
import org.esmp.server.session.AddressStates;
import org.esmp.server.plugin.PluginHost;
import picocli.CommandLine.Command;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.ParentCommand;

/**
 * {@code esmp-server add-user ADDRESS PUBKEY}: binds a key to an address in the server's storage,
 * creating the address; the way to add people when registration is closed. Runs with the server
 * stopped (the storage is opened by one process at a time), with the same configuration flags;
 * {@code esmp-admin users add} does the same while it runs. An address the operator removed is
 * refused, as there.
 */
@Command(
    name = "add-user",
    mixinStandardHelpOptions = true,
    description = "Adds ADDRESS with the Ed25519 public key PUBKEY (standard base64), or adds PUBKEY to an "
        + "existing ADDRESS. Run it while the server is stopped, with the server's flags or --config.")
final class AddUserCommand implements Callable<Integer> {

  @ParentCommand Main server;

  @Parameters(index = "0", paramLabel = "ADDRESS", description = "local#domain, of a domain this server serves")
  String address;

  @Parameters(index = "1", paramLabel = "PUBKEY", description = "the 32-byte public key, standard padded base64")
  String publicKey;

  @Override
  public Integer call() throws Exception {
    ServerConfig config = server.resolve();
    if (!Address.isValid(address)) {
      throw new ConfigException("'" + address + "' is not an address (local#domain, lowercase)");
    }
    Address who = Address.parse(address);
    if (!config.serves(who.domain())) {
      throw new ConfigException("this server does not serve " + who.domain() + " (domains: " + config.domains() + ")");
    }
    Ed25519Key key;
    try {
      key = Ed25519Key.fromBase64(publicKey);
    } catch (IllegalArgumentException e) {
      throw new ConfigException("PUBKEY must be the standard padded base64 of 32 bytes");
    }
    // Not serving: plugins get a mailbox service that delivers nothing.
    MailboxService idle = new MailboxService(() -> {
      throw new IllegalStateException("add-user does not deliver messages");
    }, Runnable::run);
    // Nor metered: add-user has no metrics port.
    ServerMetrics metrics = ServerMetrics.off();
    Commits none = new Commits(() -> {
      throw new IllegalStateException("add-user does not deliver messages");
    }, idle::publish, Clock.systemUTC(), Runnable::run, metrics);
    DataDirectory data;
    try {
      data = DataDirectory.open(config.dataDir());
    } catch (DataDirectoryInUseException e) {
      System.err.println("esmp-server: " + e.getMessage() + ": stop it first");
      return 1;
    }
    PluginHost host;
    try {
      host = new PluginHost(config, data.pluginCopies(), Set.of(), none, new ServerMailboxes(none, idle),
          new ServerJsonCodec(), metrics);
    } catch (RuntimeException e) {
      data.close();
      throw e;
    }
    try {
      Storage storage;
      try {
        host.start();
        storage = host.storage();
      } catch (IllegalStateException e) {
        System.err.println("esmp-server: " + e.getMessage() + " (a running server holds the store: stop it first)");
        return 1;
      }
      var state = storage.get(AddressStates.SPACE, who.toString()).map(s -> AddressStates.decode(who.toString(), s));
      if (state.filter(e -> e.state() == AddressStates.State.REMOVED).isPresent()) {
        System.err.println("esmp-server: " + who + " was removed, and a removed address is not given out again");
        return 1;
      }
      var owner = storage.addressOf(key);
      if (owner.isPresent()) {
        System.err.println("esmp-server: that key is already bound to " + owner.get());
        return owner.get().equals(who) ? 0 : 1;
      }
      boolean created = storage.keysOf(who).isEmpty();
      storage.commit(StorageChange.builder().expectKeys(who, storage.keysOf(who)).bindKey(who, key).build()).toCompletableFuture().get(30, TimeUnit.SECONDS);
      System.out.println((created ? "added " : "added a key to ") + who);
      return 0;
    } finally {
      host.registry().storage().ifPresent(owned -> owned.extension().close());
      host.close();
      data.close();
    }
  }
}
