package org.esmp.server.backup;

/**
 * A backup that cannot be taken or restored, for a reason the operator can act on (a damaged or
 * partial backup, a target that is not empty): the message says which, in one line.
 */
public final class BackupException extends RuntimeException {
  private static final long serialVersionUID = 1L;

  public BackupException(String message) {
    super(message);
  }

  public BackupException(String message, Throwable cause) {
    super(message, cause);
  }
}
