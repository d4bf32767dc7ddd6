package org.esmp.load.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

class JcmdTest {

  @Test
  void readsTheHeapUsedOfG1WithoutMetaspace() throws IOException {
    assertEquals(OptionalLong.of(34307), Jcmd.heapUsedKib(resource("heap-info-g1.txt")));
  }

  @Test
  void addsTheGenerationsOfAGenerationalCollector() throws IOException {
    // PSYoungGen used 19456K + ParOldGen used 0K
    assertEquals(OptionalLong.of(19456), Jcmd.heapUsedKib(resource("heap-info-parallel.txt")));
  }

  @Test
  void findsNothingInAnError() {
    assertEquals(OptionalLong.empty(), Jcmd.heapUsedKib("123: com.sun.tools.attach.AttachNotSupportedException"));
  }

  private static String resource(String name) throws IOException {
    try (InputStream in = JcmdTest.class.getResourceAsStream("/jcmd/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
