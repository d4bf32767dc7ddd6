package org.esmp.server.crypto;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

class SegmentedLruCacheTest {

  @ParameterizedTest
  @ValueSource(ints = {1, 2, 15, 16, 17, 100, 1000, 5000})
  void neverHoldsMoreThanItsCapacityAndFillsUpToIt(int capacity) {
    SegmentedLruCache<Integer, Integer> cache = new SegmentedLruCache<>(capacity);
    for (int i = 0; i < capacity * 20; i++) {
      cache.put(i, i);
      assertTrue(cache.size() <= capacity, "size " + cache.size());
    }
    // Segments fill unevenly, but each holds its share once enough distinct keys have passed.
    assertEquals(capacity, cache.size());
  }

  @Test
  void evictsTheLeastRecentlyUsedEntry() {
    SegmentedLruCache<String, String> cache = new SegmentedLruCache<>(2);
    cache.put("a", "1");
    cache.put("b", "2");
    assertEquals("1", cache.get("a"));
    cache.put("c", "3");
    assertNull(cache.get("b"));
    assertEquals("1", cache.get("a"));
    assertEquals("3", cache.get("c"));
  }
}
