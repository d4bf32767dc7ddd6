package org.esmp.api.json;

import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Objects;
import java.util.Optional;
import java.util.Set;

/** An immutable JSON object. Members keep the order in which they were parsed or added. */
public final class JsonObject implements JsonValue {

  private static final JsonObject EMPTY = new JsonObject(Map.of());

  private final Map<String, JsonValue> members;

  private JsonObject(Map<String, JsonValue> members) {
    this.members = members;
  }

  /** The empty object. */
  public static JsonObject empty() {
    return EMPTY;
  }

  /** A builder for an object; {@link Builder#build()} does not copy. */
  public static Builder builder() {
    return new Builder(new LinkedHashMap<>());
  }

  /** A builder that starts with every member of this object, for making a changed copy. */
  public Builder toBuilder() {
    return new Builder(new LinkedHashMap<>(members));
  }

  /** The members in order, unmodifiable. */
  public Map<String, JsonValue> members() {
    return members;
  }

  /** The member names in order. */
  public Set<String> names() {
    return members.keySet();
  }

  /** The value of member {@code name}, or {@code null} when there is none. */
  public JsonValue get(String name) {
    return members.get(name);
  }

  /** Whether a member {@code name} exists (its value may be JSON {@code null}). */
  public boolean has(String name) {
    return members.containsKey(name);
  }

  /** The text of member {@code name} when it exists and is a string. */
  public Optional<String> string(String name) {
    JsonValue value = members.get(name);
    return value instanceof JsonString s ? Optional.of(s.value()) : Optional.empty();
  }

  /** How many members the object has. */
  public int size() {
    return members.size();
  }

  /** Whether the object has no members. */
  public boolean isEmpty() {
    return members.isEmpty();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof JsonObject o && o.members.equals(members);
  }

  @Override
  public int hashCode() {
    return members.hashCode();
  }

  @Override
  public String toString() {
    return "JsonObject" + members;
  }

  /** Collects members for one object. A builder is used once, by one thread. */
  public static final class Builder {
    private Map<String, JsonValue> members;

    private Builder(Map<String, JsonValue> members) {
      this.members = members;
    }

    /**
     * Adds member {@code name}, or replaces its value when it exists (keeping its place).
     *
     * @return this builder
     */
    public Builder put(String name, JsonValue value) {
      members.put(Objects.requireNonNull(name, "name"), Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Adds or replaces a string member. */
    public Builder put(String name, String value) {
      return put(name, new JsonString(value));
    }

    /** Adds or replaces a number member; {@code value} must lie within ±(2^53−1). */
    public Builder put(String name, long value) {
      return put(name, JsonNumber.of(value));
    }

    /** Adds or replaces a boolean member. */
    public Builder put(String name, boolean value) {
      return put(name, JsonBoolean.of(value));
    }

    /**
     * Adds member {@code name} only when the builder has none of that name yet.
     *
     * @return {@code false} when {@code name} was already present: a duplicate key
     */
    public boolean putNew(String name, JsonValue value) {
      Objects.requireNonNull(value, "value");
      return members.putIfAbsent(Objects.requireNonNull(name, "name"), value) == null;
    }

    /** Removes member {@code name} if present. */
    public Builder remove(String name) {
      members.remove(name);
      return this;
    }

    /** The object; the builder cannot be used after this. */
    public JsonObject build() {
      Map<String, JsonValue> built = members;
      members = null;
      return built.isEmpty() ? EMPTY : new JsonObject(Collections.unmodifiableMap(built));
    }
  }
}
