package org.esmp.server.federation;

import java.nio.file.Path;
import java.util.Arrays;
import java.util.Base64;
import java.util.Optional;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import org.esmp.api.ConflictException;
import org.esmp.api.spi.Storage;
import org.esmp.api.spi.StorageChange;
import org.esmp.server.session.AddressStates;

/**
 * The one server key of the servers that share a storage (a cluster): other domains' servers know
 * a domain by one key, so every server of the cluster must sign with the same. The first server to
 * start records its public key in the storage (space {@value #SPACE}, key {@value #KEY}); each
 * server checks at start that its own key is that one, and refuses to start otherwise, saying what
 * to copy where.
 */
public final class SharedServerKey {

  /** The server's space for what the servers of a cluster agree on. */
  public static final String SPACE = AddressStates.SERVER_SPACES + ".cluster";
  /** The key of the recorded public key (32 bytes). */
  public static final String KEY = "server_key";

  private SharedServerKey() {}

  /**
   * Records {@code key} as the cluster's server key if none is yet, or checks that it is the one
   * recorded. Called once at start, before the server listens.
   *
   * @param file where {@code key} was read from, named in the error
   * @throws IllegalStateException when another key is recorded, or the storage cannot record it
   */
  public static void check(Storage storage, ServerKey key, Path file) {
    byte[] mine = key.publicKey().bytes();
    while (true) {
      Optional<byte[]> recorded = storage.get(SPACE, KEY);
      if (recorded.isPresent()) {
        if (Arrays.equals(recorded.get(), mine)) {
          return;
        }
        throw new IllegalStateException(file + " holds the server key " + base64(mine)
            + ", but the servers sharing this storage sign with " + base64(recorded.get())
            + ": every server of a cluster signs with the same key (docs/CLUSTER.md). Copy "
            + ServerKey.FILE + " from the data directory of one of them to " + file + ", then start again");
      }
      try {
        storage.commit(StorageChange.builder().expectAbsent(SPACE, KEY).put(SPACE, KEY, mine).build())
            .toCompletableFuture().get(30, TimeUnit.SECONDS);
        return;
      } catch (ExecutionException e) {
        if (!(e.getCause() instanceof ConflictException)) {
          throw new IllegalStateException("cannot record the server key in the storage: " + e.getCause().getMessage(),
              e.getCause());
        }
        // Another server recorded its key just now: read it.
      } catch (TimeoutException e) {
        throw new IllegalStateException("cannot record the server key in the storage: no answer in 30 s", e);
      } catch (InterruptedException e) {
        Thread.currentThread().interrupt();
        throw new IllegalStateException("interrupted while recording the server key", e);
      }
    }
  }

  private static String base64(byte[] key) {
    return Base64.getEncoder().encodeToString(key);
  }
}
