package org.esmp.load.probe;

import java.util.OptionalLong;

/**
 * Parsers for the Linux {@code /proc} files the tool reads (proc(5)), as text in, numbers out, so
 * that they are tested on sample files.
 */
public final class ProcFiles {

  private ProcFiles() {}

  /**
   * User plus system CPU time, in clock ticks, from {@code /proc/PID/stat}: fields 14 and 15,
   * counted after the command name, which is in parentheses and may itself hold spaces and
   * parentheses.
   */
  public static long cpuTicks(String stat) {
    String[] fields = stat.substring(stat.lastIndexOf(')') + 2).trim().split("\\s+");
    // fields[0] is field 3 (state): utime (14) is fields[11], stime (15) fields[12]
    return Long.parseLong(fields[11]) + Long.parseLong(fields[12]);
  }

  /** A {@code kB} value of {@code /proc/PID/status} (e.g. {@code VmRSS}, {@code VmHWM}), in KiB. */
  public static OptionalLong statusKib(String status, String key) {
    for (String line : status.split("\n")) {
      if (line.startsWith(key + ":")) {
        String[] parts = line.substring(key.length() + 1).trim().split("\\s+");
        return OptionalLong.of(Long.parseLong(parts[0]));
      }
    }
    return OptionalLong.empty();
  }

  /** A counter of {@code /proc/PID/io} (e.g. {@code write_bytes}, {@code wchar}). */
  public static OptionalLong ioCounter(String io, String key) {
    for (String line : io.split("\n")) {
      if (line.startsWith(key + ":")) {
        return OptionalLong.of(Long.parseLong(line.substring(key.length() + 1).trim()));
      }
    }
    return OptionalLong.empty();
  }

  /** The soft limit of open files in {@code /proc/PID/limits}; empty when unlimited or absent. */
  public static OptionalLong maxOpenFiles(String limits) {
    for (String line : limits.split("\n")) {
      if (line.startsWith("Max open files")) {
        String soft = line.substring("Max open files".length()).trim().split("\\s+")[0];
        return soft.equals("unlimited") ? OptionalLong.empty() : OptionalLong.of(Long.parseLong(soft));
      }
    }
    return OptionalLong.empty();
  }

  /**
   * The socket inode listening on {@code port} in the text of {@code /proc/net/tcp} or
   * {@code /proc/net/tcp6}: a line in state {@code 0A} (LISTEN) whose local address ends in the
   * port in hex.
   */
  public static OptionalLong listeningInode(String netTcp, int port) {
    String suffix = String.format(":%04X", port);
    for (String line : netTcp.split("\n")) {
      String[] f = line.trim().split("\\s+");
      if (f.length > 9 && f[1].toUpperCase().endsWith(suffix) && f[3].equals("0A")) {
        long inode = Long.parseLong(f[9]);
        if (inode != 0) {
          return OptionalLong.of(inode);
        }
      }
    }
    return OptionalLong.empty();
  }
}
