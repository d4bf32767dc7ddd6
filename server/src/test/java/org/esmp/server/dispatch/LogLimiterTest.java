package org.esmp.server.dispatch;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import org.junit.jupiter.api.Test;
import org.slf4j.LoggerFactory;

class LogLimiterTest {

  @Test
  void logsOneLinePerDistinctFailurePerSecondWithItsStackTraceOnce() throws Exception {
    Logger logger = (Logger) LoggerFactory.getLogger("LogLimiterTest");
    ListAppender<ILoggingEvent> lines = new ListAppender<>();
    lines.start();
    logger.addAppender(lines);
    logger.setAdditive(false);
    LogLimiter limiter = new LogLimiter(logger);
    RuntimeException failure = new RuntimeException("disk on fire");
    for (int i = 0; i < 1000; i++) {
      limiter.log(true, "a", "message " + i + " failed", failure);
      limiter.log(false, "b", "another failure " + i, null);
    }
    assertEquals(2, lines.list.size(), "one line per distinct failure");
    assertNotNull(lines.list.get(0).getThrowableProxy(), "the first carries its stack trace");
    Thread.sleep(1100);
    limiter.log(true, "a", "message 1000 failed", failure);
    assertEquals(3, lines.list.size());
    ILoggingEvent again = lines.list.get(2);
    assertTrue(again.getFormattedMessage().contains("999 more since"), again.getFormattedMessage());
    assertNull(again.getThrowableProxy(), "no stack trace the second time");
  }
}
