package org.esmp.load.probe;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.Optional;

/** The machine the tool runs on, for the report: cores, memory, JDK, OS, load at the start. */
public record MachineInfo(int cores, long memoryKib, String jdk, String os, String hostname, String loadAverage) {

  /** This machine now. */
  public static MachineInfo current() {
    String jdk = System.getProperty("java.vm.name") + " " + System.getProperty("java.runtime.version");
    String os = System.getProperty("os.name") + " " + System.getProperty("os.version") + " "
        + System.getProperty("os.arch");
    long memory = read("/proc/meminfo").map(m -> ProcFiles.statusKib(m, "MemTotal").orElse(-1)).orElse(-1L);
    String load = read("/proc/loadavg").map(l -> {
      String[] f = l.trim().split("\\s+");
      return f[0] + " " + f[1] + " " + f[2];
    }).orElse("unknown");
    String host;
    try {
      host = InetAddress.getLocalHost().getHostName();
    } catch (IOException e) {
      host = "unknown";
    }
    return new MachineInfo(Runtime.getRuntime().availableProcessors(), memory, jdk, os, host, load);
  }

  /** As ordered key/value pairs for the JSON report. */
  public Map<String, Object> asMap() {
    Map<String, Object> map = new LinkedHashMap<>();
    map.put("cores", cores);
    map.put("memory_kib", memoryKib);
    map.put("jdk", jdk);
    map.put("os", os);
    map.put("hostname", hostname);
    map.put("load_average_1_5_15_min", loadAverage);
    return map;
  }

  private static Optional<String> read(String file) {
    try {
      return Optional.of(Files.readString(Path.of(file)));
    } catch (IOException | RuntimeException e) {
      return Optional.empty();
    }
  }
}
