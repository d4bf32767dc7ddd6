package org.esmp.load.scenario;

import java.util.List;
import java.util.function.IntFunction;
import java.util.stream.IntStream;
import org.esmp.load.net.SignedFrame;

/** Signing ahead of a timed round, on every core: {@code n} frames, in order. */
final class Presign {

  private Presign() {}

  static List<SignedFrame> frames(int n, IntFunction<SignedFrame> frame) {
    return IntStream.range(0, n).parallel().mapToObj(frame).toList();
  }

  /** {@code total} split over {@code parts} as evenly as can be; part {@code i}'s share. */
  static int share(int total, int parts, int i) {
    return total / parts + (i < total % parts ? 1 : 0);
  }
}
