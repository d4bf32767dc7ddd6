package org.esmp.load.scenario;

import java.io.PrintWriter;
import java.util.Locale;
import org.esmp.load.net.FrameSigner;
import org.esmp.load.net.Target;

/**
 * What every scenario of a run shares: the sizes, the server, names, the signer, the server's
 * process observed from outside, and where progress lines go (stderr; the report goes to stdout).
 */
public record RunContext(Settings settings, Target target, Names names, FrameSigner signer, ServerMonitor monitor,
    PrintWriter progress) {

  /** One progress line, {@code esmp-load: ...}. */
  public void progress(String format, Object... args) {
    progress.printf(Locale.ROOT, "esmp-load: " + format + "%n", args);
    progress.flush();
  }
}
