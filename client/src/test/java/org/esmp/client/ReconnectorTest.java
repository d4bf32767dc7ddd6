package org.esmp.client;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertTrue;

import java.io.IOException;
import java.time.Duration;
import java.util.List;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.Timeout;

/** The reconnect loop against a scripted target; its waits are recorded, not slept. */
@Timeout(30)
class ReconnectorTest {

  /** A client whose reconnect attempts fail as scripted; it records what it was asked. */
  private static class Client implements Reconnector.Target<String> {
    final LinkedBlockingQueue<String> calls = new LinkedBlockingQueue<>();
    final ConcurrentLinkedQueue<IOException> failures = new ConcurrentLinkedQueue<>();
    volatile boolean needsResume = true;
    volatile boolean closed;
    volatile String lost;

    @Override
    public boolean needsResume(String connection) {
      calls.add("needsResume " + connection);
      return needsResume;
    }

    @Override
    public void reconnect() throws IOException {
      calls.add("reconnect");
      IOException next = failures.poll();
      if (next != null) {
        throw next;
      }
      calls.add("resumed");
    }

    @Override
    public void refused(ServerException why) {
      calls.add("refused " + why.code());
    }

    @Override
    public boolean isClosed() {
      return closed;
    }

    @Override
    public String lostConnection() {
      String l = lost;
      lost = null;
      return l;
    }
  }

  private final LinkedBlockingQueue<Duration> waits = new LinkedBlockingQueue<>();

  private Reconnector<String> reconnector(Client client) {
    return new Reconnector<>(client, Duration.ofSeconds(1), Duration.ofSeconds(30), waits::add);
  }

  @Test
  void waitsOneSecondDoublingUpToThirtyUntilAnAttemptWorks() throws Exception {
    Client client = new Client();
    for (int i = 0; i < 7; i++) {
      client.failures.add(new IOException("connection refused"));
    }
    reconnector(client).resume("c1");
    assertEquals("needsResume c1", client.calls.poll(5, TimeUnit.SECONDS));
    for (int i = 0; i < 8; i++) {
      assertEquals("reconnect", client.calls.poll(5, TimeUnit.SECONDS));
    }
    assertEquals("resumed", client.calls.poll(5, TimeUnit.SECONDS));
    assertEquals(List.of(1L, 2L, 4L, 8L, 16L, 30L, 30L, 30L),
        waits.stream().map(Duration::toSeconds).toList());
    assertNull(client.calls.poll(200, TimeUnit.MILLISECONDS));
  }

  @Test
  void stopsForGoodWhenTheServerRefuses() throws Exception {
    Client client = new Client();
    client.failures.add(new IOException("connection reset"));
    client.failures.add(new ServerException("forbidden", "key revoked", "id"));
    reconnector(client).resume("c1");
    assertEquals(List.of("needsResume c1", "reconnect", "reconnect", "refused forbidden"),
        List.of(poll(client), poll(client), poll(client), poll(client)));
    assertNull(client.calls.poll(200, TimeUnit.MILLISECONDS));
  }

  @Test
  void stopsWhenTheClientIsClosed() throws Exception {
    Client client = new Client();
    client.failures.add(new IOException("connection refused"));
    client.failures.add(new IOException("connection refused"));
    AtomicInteger attempts = new AtomicInteger();
    Reconnector<String> reconnector = new Reconnector<>(client, Duration.ofSeconds(1),
        Duration.ofSeconds(30), time -> {
          if (attempts.incrementAndGet() == 2) {
            client.closed = true;
          }
        });
    reconnector.resume("c1");
    assertEquals(List.of("needsResume c1", "reconnect", "reconnect"),
        List.of(poll(client), poll(client), poll(client)));
    assertNull(client.calls.poll(300, TimeUnit.MILLISECONDS));
    assertEquals(2, attempts.get());
  }

  @Test
  void doesNothingForAConnectionThatNeedsNoResume() throws Exception {
    Client client = new Client();
    client.needsResume = false;
    reconnector(client).resume("old");
    assertEquals("needsResume old", poll(client));
    assertNull(client.calls.poll(200, TimeUnit.MILLISECONDS));
    assertTrue(waits.isEmpty());
  }

  @Test
  void runsOneReconnectThreadAtATime() throws Exception {
    Client client = new Client();
    CountDownLatch sleeping = new CountDownLatch(1);
    CountDownLatch wake = new CountDownLatch(1);
    Reconnector<String> reconnector = new Reconnector<>(client, Duration.ofSeconds(1),
        Duration.ofSeconds(30), time -> {
          sleeping.countDown();
          wake.await();
        });
    reconnector.resume("c1");
    assertTrue(sleeping.await(5, TimeUnit.SECONDS));
    reconnector.resume("c1");
    reconnector.resume("c2");
    wake.countDown();
    assertEquals(List.of("needsResume c1", "reconnect", "resumed"),
        List.of(poll(client), poll(client), poll(client)));
    assertNull(client.calls.poll(200, TimeUnit.MILLISECONDS));
  }

  @Test
  void startsAgainWhenTheNewConnectionDroppedAsTheThreadFinished() throws Exception {
    AtomicInteger reconnects = new AtomicInteger();
    Client client = new Client() {
      @Override
      public void reconnect() throws IOException {
        super.reconnect();
        if (reconnects.incrementAndGet() == 1) {
          lost = "c2"; // dropped before the thread could see it
        }
      }
    };
    reconnector(client).resume("c1");
    assertEquals(List.of("needsResume c1", "reconnect", "resumed", "needsResume c2", "reconnect", "resumed"),
        List.of(poll(client), poll(client), poll(client), poll(client), poll(client), poll(client)));
    assertNull(client.calls.poll(200, TimeUnit.MILLISECONDS));
  }

  private static String poll(Client client) throws InterruptedException {
    return client.calls.poll(5, TimeUnit.SECONDS);
  }
}
