package org.esmp.server.plugin;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import org.esmp.api.ServerContext;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginRuntimeException;

/**
 * Creates extensions, handing its plugin's {@link ServerContext} to those whose public constructor
 * takes one. Keeps no instance: {@link PluginLoader} creates each extension class once per plugin
 * start and {@link PluginHost} holds it only while the plugin runs, so nothing here keeps an
 * unloaded plugin's classes alive.
 */
final class ContextExtensionFactory implements ExtensionFactory {

  /**
   * Not used: an extension gets the context of its plugin, so {@link PluginLoader} creates each with
   * {@link #create(Class, ServerContext)}.
   */
  @Override
  public <T> T create(Class<T> extensionClass) {
    throw new UnsupportedOperationException("extensions are created with their plugin's context");
  }

  /**
   * @param context the context of the extension's plugin
   * @throws PluginRuntimeException when the class has no usable constructor or its constructor
   *     failed (the cause)
   */
  <T> T create(Class<T> extensionClass, ServerContext context) {
    try {
      try {
        Constructor<T> withContext = extensionClass.getConstructor(ServerContext.class);
        return withContext.newInstance(context);
      } catch (NoSuchMethodException e) {
        return extensionClass.getConstructor().newInstance();
      }
    } catch (InvocationTargetException e) {
      throw new PluginRuntimeException(e.getCause(), "extension {} failed in its constructor", extensionClass.getName());
    } catch (ReflectiveOperationException e) {
      throw new PluginRuntimeException(
          e, "extension {} needs a public constructor taking ServerContext or none", extensionClass.getName());
    }
  }
}
