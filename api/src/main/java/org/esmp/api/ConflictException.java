package org.esmp.api;

/**
 * A commit's condition did not hold when the storage applied it: another writer changed a value
 * it expected (see {@link Writes.Builder#expect}, {@link Writes.Builder#expectAbsent}), possibly
 * on another server of a cluster. Nothing of the commit was applied. The caller re-reads what it
 * decided on, decides again, and retries: for example a group thread reads the group's state
 * anew and runs its rule again, so that its next {@code seq} has no gap and no twin.
 */
public class ConflictException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  /** @param message which condition failed, for logs */
  public ConflictException(String message) {
    super(message);
  }
}
