package org.esmp.server.config;

/** A configuration the server cannot start with; its message is one line for the operator. */
public final class ConfigException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  public ConfigException(String message) {
    super(message, null, false, false);
  }
}
