package org.esmp.load.probe;

/**
 * What {@code /proc} said about a process at one moment. A value that could not be read is -1.
 *
 * @param nanos when ({@link System#nanoTime})
 * @param cpuTicks user plus system CPU time, in clock ticks
 * @param rssKib resident set size ({@code VmRSS})
 * @param peakRssKib peak resident set size ({@code VmHWM})
 * @param writeBytes bytes the process caused to be written to storage ({@code write_bytes})
 * @param writeCalls bytes passed to write calls, cached or not ({@code wchar})
 */
public record ProcSample(long nanos, long cpuTicks, long rssKib, long peakRssKib, long writeBytes, long writeCalls) {}
