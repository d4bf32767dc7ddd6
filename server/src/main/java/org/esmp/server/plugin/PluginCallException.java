package org.esmp.server.plugin;

/**
 * A call into a plugin that failed: it threw, answered {@code null} or an answer that is not one,
 * or did not answer in time. The message at hand is answered {@code internal}.
 */
public final class PluginCallException extends RuntimeException {

  private static final long serialVersionUID = 1L;

  private final String pluginId;

  PluginCallException(String pluginId, String message, Throwable cause) {
    super("plugin " + pluginId + ": " + message, cause);
    this.pluginId = pluginId;
  }

  /** The plugin that failed. */
  public String pluginId() {
    return pluginId;
  }
}
