package org.esmp.load.net;

/** A failure that stops a scenario, with a message written for the person running the tool. */
public class LoadException extends Exception {

  private static final long serialVersionUID = 1L;

  public LoadException(String message) {
    super(message);
  }

  public LoadException(String message, Throwable cause) {
    super(message, cause);
  }
}
