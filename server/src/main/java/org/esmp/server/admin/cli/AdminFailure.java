package org.esmp.server.admin.cli;

/** Why an {@code esmp-admin} command failed, in one line: printed as {@code esmp-admin: ...}, exit code 1. */
final class AdminFailure extends RuntimeException {
  private static final long serialVersionUID = 1L;

  AdminFailure(String message) {
    super(message);
  }
}
