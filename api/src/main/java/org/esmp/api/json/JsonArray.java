package org.esmp.api.json;

import java.util.ArrayList;
import java.util.Collection;
import java.util.Collections;
import java.util.Iterator;
import java.util.List;

/** An immutable JSON array. */
public final class JsonArray implements JsonValue, Iterable<JsonValue> {

  private static final JsonArray EMPTY = new JsonArray(List.of());

  private final List<JsonValue> items;

  private JsonArray(List<JsonValue> items) {
    this.items = items;
  }

  /** An array of {@code items}, copied. */
  public static JsonArray of(Collection<? extends JsonValue> items) {
    return items.isEmpty() ? EMPTY : new JsonArray(List.copyOf(items));
  }

  /** An array of {@code items}. */
  public static JsonArray of(JsonValue... items) {
    return items.length == 0 ? EMPTY : new JsonArray(List.of(items));
  }

  /** An array of strings. */
  public static JsonArray ofStrings(Collection<String> items) {
    List<JsonValue> values = new ArrayList<>(items.size());
    for (String item : items) {
      values.add(new JsonString(item));
    }
    return of(values);
  }

  /** A builder for an array; {@link Builder#build()} does not copy. */
  public static Builder builder() {
    return new Builder();
  }

  /** Collects items for one array. A builder is used once, by one thread. */
  public static final class Builder {
    private List<JsonValue> items = new ArrayList<>();

    private Builder() {}

    /** Appends {@code value}. */
    public Builder add(JsonValue value) {
      items.add(java.util.Objects.requireNonNull(value, "value"));
      return this;
    }

    /** Appends a string. */
    public Builder add(String value) {
      return add(new JsonString(value));
    }

    /** The array; the builder cannot be used after this. */
    public JsonArray build() {
      List<JsonValue> built = items;
      items = null;
      return built.isEmpty() ? EMPTY : new JsonArray(Collections.unmodifiableList(built));
    }
  }

  /** The items, unmodifiable. */
  public List<JsonValue> items() {
    return items;
  }

  /** The item at {@code index}. */
  public JsonValue get(int index) {
    return items.get(index);
  }

  /** How many items the array holds. */
  public int size() {
    return items.size();
  }

  /** Whether the array is empty. */
  public boolean isEmpty() {
    return items.isEmpty();
  }

  @Override
  public Iterator<JsonValue> iterator() {
    return items.iterator();
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof JsonArray a && a.items.equals(items);
  }

  @Override
  public int hashCode() {
    return items.hashCode();
  }

  @Override
  public String toString() {
    return "JsonArray" + items;
  }
}
