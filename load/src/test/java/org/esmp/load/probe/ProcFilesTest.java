package org.esmp.load.probe;

import static org.junit.jupiter.api.Assertions.assertEquals;

import java.io.IOException;
import java.io.InputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.OptionalLong;
import org.junit.jupiter.api.Test;

/** On files copied from /proc while a server ran on port 15888 (pid 11707). */
class ProcFilesTest {

  @Test
  void addsUserAndSystemTicksFromStat() throws IOException {
    assertEquals(757 + 42, ProcFiles.cpuTicks(resource("stat")));
  }

  @Test
  void countsStatFieldsAfterACommandNameWithSpacesAndParentheses() {
    String stat = "42 (a (b) c) S 1 42 42 0 -1 4194304 10 0 0 0 1234 56 0 0 20 0 3 0 100 1000 50 0";

    assertEquals(1234 + 56, ProcFiles.cpuTicks(stat));
  }

  @Test
  void readsRssAndPeakRssInKib() throws IOException {
    String status = resource("status");

    assertEquals(OptionalLong.of(156408), ProcFiles.statusKib(status, "VmRSS"));
    assertEquals(OptionalLong.of(166536), ProcFiles.statusKib(status, "VmHWM"));
    assertEquals(OptionalLong.empty(), ProcFiles.statusKib(status, "VmNothing"));
  }

  @Test
  void readsBytesWrittenFromIo() throws IOException {
    String io = resource("io");

    assertEquals(OptionalLong.of(27754496), ProcFiles.ioCounter(io, "write_bytes"));
    assertEquals(OptionalLong.of(29375437), ProcFiles.ioCounter(io, "wchar"));
  }

  @Test
  void readsTheSoftLimitOfOpenFiles() throws IOException {
    assertEquals(OptionalLong.of(20000), ProcFiles.maxOpenFiles(resource("limits")));
    assertEquals(OptionalLong.empty(),
        ProcFiles.maxOpenFiles("Max open files            unlimited            unlimited            files\n"));
  }

  @Test
  void findsTheInodeListeningOnAPortInTcp6AndTcp() throws IOException {
    assertEquals(OptionalLong.of(1037029), ProcFiles.listeningInode(resource("net-tcp6"), 15888));
    assertEquals(OptionalLong.of(579), ProcFiles.listeningInode(resource("net-tcp"), 2024));
  }

  @Test
  void ignoresConnectionsAndOtherPorts() throws IOException {
    // net-tcp6 also holds an established connection whose remote port is 15888 and local 51252
    assertEquals(OptionalLong.empty(), ProcFiles.listeningInode(resource("net-tcp6"), 51252));
    assertEquals(OptionalLong.empty(), ProcFiles.listeningInode(resource("net-tcp6"), 5888));
  }

  @Test
  void samplesAProcessDirectory() throws URISyntaxException {
    Path dir = Path.of(ProcFilesTest.class.getResource("/proc/stat").toURI()).getParent();

    ProcSample sample = new ProcessSampler(11707, dir, 100).sample();

    assertEquals(799, sample.cpuTicks());
    assertEquals(156408, sample.rssKib());
    assertEquals(27754496, sample.writeBytes());
  }

  static String resource(String name) throws IOException {
    try (InputStream in = ProcFilesTest.class.getResourceAsStream("/proc/" + name)) {
      return new String(in.readAllBytes(), StandardCharsets.UTF_8);
    }
  }
}
