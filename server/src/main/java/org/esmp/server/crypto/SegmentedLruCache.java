package org.esmp.server.crypto;

import java.util.LinkedHashMap;
import java.util.Map;

/**
 * A bounded map split into independently locked LRU segments. It never holds more than the
 * capacity it was built with, so callers may feed it untrusted keys.
 *
 * <p>Thread-safe. Each segment is guarded by its own lock, so threads touching different segments
 * do not contend; eviction is least-recently-used within a segment, which approximates global LRU.
 * Because every segment is small and bounded, keys chosen to collide in one segment only churn
 * that segment: a lookup there stays cheap next to the work the cache saves.
 *
 * @param <K> key type; {@code hashCode} and {@code equals} must be consistent and stable
 * @param <V> value type
 */
final class SegmentedLruCache<K, V> {

  // More segments than this buys little contention relief and wastes capacity on tiny segments.
  private static final int MAX_SEGMENTS = 64;
  // Below this many entries per segment, LRU within a segment is too coarse to be worth splitting.
  private static final int MIN_SEGMENT_CAPACITY = 16;

  private final Segment<K, V>[] segments;
  private final int mask;
  private final int capacity;

  /**
   * A cache holding at most {@code capacity} entries.
   *
   * @throws IllegalArgumentException when {@code capacity} is below 1
   */
  @SuppressWarnings("unchecked")
  SegmentedLruCache(int capacity) {
    if (capacity < 1) {
      throw new IllegalArgumentException("cache capacity must be at least 1, got " + capacity);
    }
    int count = Math.min(MAX_SEGMENTS,
        Integer.highestOneBit(Math.max(1, capacity / MIN_SEGMENT_CAPACITY)));
    segments = new Segment[count];
    // Spread the remainder so the segment capacities add up to exactly the requested capacity.
    for (int i = 0; i < count; i++) {
      segments[i] = new Segment<>(capacity / count + (i < capacity % count ? 1 : 0));
    }
    this.mask = count - 1;
    this.capacity = capacity;
  }

  /** The value for {@code key}, or null; a hit makes the entry most recently used. */
  V get(K key) {
    Segment<K, V> segment = segmentFor(key);
    synchronized (segment) {
      return segment.get(key);
    }
  }

  /**
   * Stores {@code value} for {@code key}; when its segment is full, the segment's least recently
   * used entry is evicted.
   */
  void put(K key, V value) {
    Segment<K, V> segment = segmentFor(key);
    synchronized (segment) {
      segment.put(key, value);
    }
  }

  /** The number of entries now held; never more than {@link #capacity()}. */
  int size() {
    int size = 0;
    for (Segment<K, V> segment : segments) {
      synchronized (segment) {
        size += segment.size();
      }
    }
    return size;
  }

  /** The most entries this cache holds. */
  int capacity() {
    return capacity;
  }

  private Segment<K, V> segmentFor(K key) {
    // Multiply to mix high bits into the low bits the mask keeps.
    int h = key.hashCode() * 0x9E3779B9;
    return segments[(h ^ (h >>> 16)) & mask];
  }

  /** One LRU segment; callers hold its monitor. */
  private static final class Segment<K, V> extends LinkedHashMap<K, V> {

    private static final long serialVersionUID = 1L;

    private final int maxSize;

    Segment(int maxSize) {
      // Access order gives LRU eviction. The size hint is capped so a huge capacity costs memory
      // only as entries arrive.
      super(Math.min(maxSize, 1 << 12), 0.75f, true);
      this.maxSize = maxSize;
    }

    @Override
    protected boolean removeEldestEntry(Map.Entry<K, V> eldest) {
      return size() > maxSize;
    }
  }
}
