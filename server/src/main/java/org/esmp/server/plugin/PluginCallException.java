package org.esmp.server.plugin;

/**
 * A call into a plugin that failed: it threw, answered {@code null} or an answer that is not one,
 * or did not answer in time. The message at hand is answered {@code internal}.
 */
public final class PluginCallException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String pluginId;
  private final boolean timedOut;

  PluginCallException(String pluginId, String message, Throwable cause) {
    this(pluginId, message, cause, false);
  }

  PluginCallException(String pluginId, String message, Throwable cause, boolean timedOut) {
    super("plugin " + pluginId + ": " + message, cause);
    this.pluginId = pluginId;
    this.timedOut = timedOut;
  }

  /** Whether the plugin did not return or answer in time (rather than failing). */
  public boolean timedOut() {
    return timedOut;
  }

  /** The plugin that failed. */
  public String pluginId() {
    return pluginId;
  }
}
