package org.esmp.server.plugin;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import io.netty.util.HashedWheelTimer;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import org.esmp.server.metrics.ServerMetrics;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

/**
 * {@link SerialCalls} under a flood: the queue stays bounded, the oldest calls are dropped, every
 * drop is counted, and the drops are logged once a second, not once per drop.
 */
class SerialCallsTest {

  @Test
  void aFloodDropsTheOldestCountsEveryDropAndLogsOnceASecond() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger(SerialCalls.class);
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    HashedWheelTimer timer = new HashedWheelTimer();
    PluginCalls calls = new PluginCalls("slow", 1, Duration.ofSeconds(5), Duration.ofSeconds(5), timer,
        getClass().getClassLoader(), ServerMetrics.off().plugin("slow"));
    try {
      SerialCalls serial = new SerialCalls(calls, "message listener", 10);
      CountDownLatch release = new CountDownLatch(1);
      List<Integer> ran = new CopyOnWriteArrayList<>();
      serial.submit(release::await, "first"); // holds the listener while the flood comes
      for (int i = 0; i < 5_000; i++) {
        int n = i;
        serial.submit(() -> ran.add(n), "message " + i);
      }
      assertEquals(5_000 - 10, serial.dropped(), "all but the 10 newest waiting calls were dropped");
      long warnings = lines.list.stream().filter(e -> e.getFormattedMessage().contains("too slow")).count();
      assertEquals(1, warnings, "one line for the whole flood within a second: " + lines.list);
      assertTrue(lines.list.get(0).getFormattedMessage().contains("dropped the oldest of 10 waiting calls 1 times"),
          lines.list.get(0).getFormattedMessage());

      Thread.sleep(1_100);
      serial.submit(() -> ran.add(-1), "after a second");
      assertEquals(5_000 - 10 + 1, serial.dropped());
      String later = lines.list.get(lines.list.size() - 1).getFormattedMessage();
      assertTrue(later.contains((5_000 - 10) + " times since the last such line (" + (5_000 - 10 + 1) + " in all)"),
          later);

      release.countDown();
      long end = System.nanoTime() + TimeUnit.SECONDS.toNanos(5);
      while (ran.size() < 10 && System.nanoTime() < end) {
        Thread.sleep(10);
      }
      assertEquals(List.of(4_991, 4_992, 4_993, 4_994, 4_995, 4_996, 4_997, 4_998, 4_999, -1), ran,
          "the newest calls ran, in order");
    } finally {
      logger.detachAppender(lines);
      calls.shutdown();
      timer.stop();
    }
  }
}
