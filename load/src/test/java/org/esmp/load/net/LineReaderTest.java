package org.esmp.load.net;

import static java.nio.charset.StandardCharsets.UTF_8;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNull;
import static org.junit.jupiter.api.Assertions.assertThrows;

import java.io.ByteArrayInputStream;
import java.io.IOException;
import java.io.InputStream;
import java.util.Arrays;
import org.junit.jupiter.api.Test;

class LineReaderTest {

  @Test
  void splitsOnNewlineDroppingCarriageReturnsAndEmptyLines() throws IOException {
    LineReader reader = new LineReader(new ByteArrayInputStream("{\"a\":1}\r\n\n\r\n{\"b\":2}\n".getBytes(UTF_8)));

    assertEquals("{\"a\":1}", new String(reader.readLine(), UTF_8));
    assertEquals("{\"b\":2}", new String(reader.readLine(), UTF_8));
    assertNull(reader.readLine());
  }

  @Test
  void joinsALineThatArrivesOneByteAtATime() throws IOException {
    String frame = "{\"type\":\"deliver\",\"id\":\"" + "x".repeat(70_000) + "\"}";
    InputStream trickle = new ByteArrayInputStream((frame + "\n" + frame + "\n").getBytes(UTF_8)) {
      @Override
      public synchronized int read(byte[] b, int off, int len) {
        return super.read(b, off, Math.min(len, 7));
      }
    };
    LineReader reader = new LineReader(trickle);

    assertEquals(frame, new String(reader.readLine(), UTF_8));
    assertEquals(frame, new String(reader.readLine(), UTF_8));
  }

  @Test
  void aPartialLineAtTheEndIsNoFrame() throws IOException {
    assertNull(new LineReader(new ByteArrayInputStream("{\"type\":\"a".getBytes(UTF_8))).readLine());
  }

  @Test
  void refusesALineLongerThanAnyFrame() {
    byte[] endless = new byte[LineReader.MAX_LINE + 10];
    Arrays.fill(endless, (byte) 'x');

    assertThrows(IOException.class, () -> new LineReader(new ByteArrayInputStream(endless)).readLine());
  }
}
