package org.esmp.server.plugin;

import java.lang.reflect.Constructor;
import java.lang.reflect.InvocationTargetException;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import org.esmp.api.ServerContext;
import org.pf4j.ExtensionFactory;
import org.pf4j.PluginRuntimeException;

/**
 * Creates extensions, handing a {@link ServerContext} to those whose public constructor takes one.
 * Each extension is created once per plugin start by {@link PluginHost}, which keeps the instance.
 */
final class ContextExtensionFactory implements ExtensionFactory {

  private final ServerContext context;
  /** Extensions that failed to be created: PF4J logs such a failure and goes on without them. */
  private final Map<Class<?>, Throwable> failures = new ConcurrentHashMap<>();

  ContextExtensionFactory(ServerContext context) {
    this.context = context;
  }

  /** The failure of the last attempt to create an extension of a class assignable to {@code type}. */
  Optional<Throwable> failure(Class<?> type) {
    return failures.entrySet().stream()
        .filter(entry -> type.isAssignableFrom(entry.getKey()))
        .map(Map.Entry::getValue)
        .findFirst();
  }

  @Override
  public <T> T create(Class<T> extensionClass) {
    try {
      T extension = instantiate(extensionClass);
      failures.remove(extensionClass);
      return extension;
    } catch (RuntimeException | LinkageError e) {
      failures.put(extensionClass, e.getCause() != null ? e.getCause() : e);
      throw e;
    }
  }

  private <T> T instantiate(Class<T> extensionClass) {
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
