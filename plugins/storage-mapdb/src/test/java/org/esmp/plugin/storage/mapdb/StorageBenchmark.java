package org.esmp.plugin.storage.mapdb;

import static org.esmp.api.testkit.StorageFixtures.address;
import static org.esmp.api.testkit.StorageFixtures.delivery;

import java.io.IOException;
import java.lang.management.ManagementFactory;
import java.lang.management.ThreadMXBean;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import org.esmp.api.Address;

/**
 * Measures commit latency and group-commit throughput of single-message changes (one accepted id,
 * one ~400-byte entry). Not a test: run its main with the test classpath, optionally with
 * {@code threads inFlightPerThread seconds recipients} (how many mailboxes the messages are
 * spread over: with many, every append lands in another B-tree leaf). Besides throughput it prints
 * the commit thread's CPU time and the bytes written to disk per change: on a busy server that CPU
 * is taken from signature verification.
 */
public final class StorageBenchmark {

  private StorageBenchmark() {}

  public static void main(String[] args) throws Exception {
    int threads = args.length > 0 ? Integer.parseInt(args[0]) : 16;
    int inFlightPerThread = args.length > 1 ? Integer.parseInt(args[1]) : 64;
    int seconds = args.length > 2 ? Integer.parseInt(args[2]) : 10;
    int recipients = args.length > 3 ? Integer.parseInt(args[3]) : 1000;
    Path data = Files.createTempDirectory("storage-bench");
    MapDbStorage storage = new MapDbStorage(StorageContexts.of(data));
    Address from = address("sender");

    int sequential = 300;
    long[] latencies = new long[sequential];
    for (int i = 0; i < sequential; i++) {
      long start = System.nanoTime();
      storage.commit(delivery("seq" + i, i, from, address("r" + (i % 100)))).toCompletableFuture().get();
      latencies[i] = System.nanoTime() - start;
    }
    Arrays.sort(latencies);
    System.out.printf(
        "single commit latency: avg %.2f ms, p50 %.2f ms, p99 %.2f ms (%d sequential commits)%n",
        Arrays.stream(latencies).average().orElse(0) / 1e6,
        latencies[sequential / 2] / 1e6,
        latencies[sequential * 99 / 100] / 1e6,
        sequential);

    ThreadMXBean threadBean = ManagementFactory.getThreadMXBean();
    long commitThread = commitThreadId();
    long cpuBefore = threadBean.getThreadCpuTime(commitThread);
    long writtenBefore = bytesWritten();
    long[] millisBefore = storage.batchMillis();
    long commitsBefore = storage.dbCommits();
    long changesBefore = storage.committedChanges();
    AtomicLong failures = new AtomicLong();
    long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(seconds);
    CountDownLatch done = new CountDownLatch(threads);
    long start = System.nanoTime();
    for (int t = 0; t < threads; t++) {
      String prefix = "t" + t + "-";
      new Thread(
              () -> {
                Semaphore inFlight = new Semaphore(inFlightPerThread);
                for (int i = 0; System.nanoTime() < deadline; i++) {
                  inFlight.acquireUninterruptibly();
                  storage
                      // Accepted at the clock's time, as the server does: the time index grows at its end.
                      .commit(delivery(prefix + i, System.currentTimeMillis(), from, address("r" + (i % recipients))))
                      .whenComplete(
                          (cursors, failure) -> {
                            if (failure != null) {
                              failures.incrementAndGet();
                            }
                            inFlight.release();
                          });
                }
                inFlight.acquireUninterruptibly(inFlightPerThread);
                done.countDown();
              })
          .start();
    }
    done.await();
    double elapsed = (System.nanoTime() - start) / 1e9;
    long cpu = threadBean.getThreadCpuTime(commitThread) - cpuBefore;
    long written = bytesWritten() - writtenBefore;
    long changes = storage.committedChanges() - changesBefore;
    long commits = storage.dbCommits() - commitsBefore;
    System.out.printf(
        "group commit: %d threads x %d in flight, %d recipients, %.1f s: %d changes, %.0f changes/s,"
            + " %d db commits (%.0f/s), average batch %.1f, %d failed%n",
        threads,
        inFlightPerThread,
        recipients,
        elapsed,
        changes,
        changes / elapsed,
        commits,
        commits / elapsed,
        (double) changes / commits,
        failures.get());
    long[] millis = storage.batchMillis();
    long applying = millis[0] - millisBefore[0];
    long committing = millis[1] - millisBefore[1];
    System.out.printf(
        "time in batches: applying %d ms (%.0f µs/change), db.commit() %d ms (%.0f µs/change);"
            + " commit thread CPU %.0f µs/change; %.1f KiB written to disk per change%n",
        applying,
        applying * 1e3 / changes,
        committing,
        committing * 1e3 / changes,
        cpu / 1e3 / changes,
        written / 1024.0 / changes);
    storage.close();
    // Opening reads the whole store through (Store.verify): its cost grows with the data.
    long openStart = System.nanoTime();
    MapDbStorage reopened = new MapDbStorage(StorageContexts.of(data));
    System.out.printf(
        "reopen with the read-through check: %d ms for %d changes%n",
        (System.nanoTime() - openStart) / 1_000_000,
        storage.committedChanges());
    reopened.close();
  }

  /** Bytes this process caused to be written to storage (Linux), or 0 where unknown. */
  private static long bytesWritten() {
    try {
      for (String line : Files.readAllLines(Path.of("/proc/self/io"))) {
        if (line.startsWith("write_bytes:")) {
          return Long.parseLong(line.substring("write_bytes:".length()).trim());
        }
      }
    } catch (IOException | RuntimeException e) {
      // Not Linux: the figure prints as 0.
    }
    return 0;
  }

  private static long commitThreadId() {
    for (Thread thread : Thread.getAllStackTraces().keySet()) {
      if (thread.getName().equals("storage-mapdb-commit")) {
        return thread.getId();
      }
    }
    throw new IllegalStateException("no storage-mapdb-commit thread");
  }
}
