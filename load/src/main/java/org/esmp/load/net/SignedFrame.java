package org.esmp.load.net;

/**
 * A message signed ahead of time: its id (the {@code re} of its answer, and the {@code id} of its
 * deliveries) and the exact bytes to write, line ending included.
 */
public record SignedFrame(String id, byte[] line) {}
