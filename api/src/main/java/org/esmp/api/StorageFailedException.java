package org.esmp.api;

/**
 * The storage has failed for good and stores nothing more: a disk sync or a checkpoint failed, or
 * its writer broke. Every commit from then on completes exceptionally with it. Nothing it refused
 * was acknowledged; restart the server to recover: opening the storage again replays what was
 * durable. See {@link org.esmp.api.spi.Storage#failure()}.
 */
public class StorageFailedException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /**
   * @param message what failed, naming the file, for the one log line the server writes
   * @param cause the underlying failure, if any
   */
  public StorageFailedException(String message, Throwable cause) {
    super(message, cause);
  }
}
