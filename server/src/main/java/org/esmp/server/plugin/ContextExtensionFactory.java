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
 * Each extension class is instantiated once per plugin start.
 */
final class ContextExtensionFactory implements ExtensionFactory {

  private final ServerContext context;
  /**
   * One instance per extension class: a class implementing several extension points (say a
   * delivery that is also a ledger) is one object with one state, whichever point it is found by.
   */
  private final Map<Class<?>, Object> instances = new ConcurrentHashMap<>();
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
    Object existing = instances.get(extensionClass);
    if (existing != null) {
      return extensionClass.cast(existing);
    }
    synchronized (this) {
      existing = instances.get(extensionClass);
      if (existing != null) {
        return extensionClass.cast(existing);
      }
      try {
        T extension = instantiate(extensionClass);
        failures.remove(extensionClass);
        instances.put(extensionClass, extension);
        return extension;
      } catch (RuntimeException | LinkageError e) {
        failures.put(extensionClass, e.getCause() != null ? e.getCause() : e);
        throw e;
      }
    }
  }

  /** Forgets every instance, so that a later start creates them anew. */
  void clear() {
    instances.clear();
    failures.clear();
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
