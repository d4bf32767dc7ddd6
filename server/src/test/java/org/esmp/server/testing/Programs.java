package org.esmp.server.testing;

import static org.junit.jupiter.api.Assertions.assertTrue;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.stream.Stream;

/** Programs of the machine that tests run: there, or the test fails saying how to get them. */
public final class Programs {

  private Programs() {}

  /** Fails unless {@code openssl} is on the PATH (.ci/run installs it where it is missing). */
  public static void requireOpenssl() {
    assertTrue(Stream.of(System.getenv("PATH").split(":")).anyMatch(dir -> Files.isExecutable(Path.of(dir, "openssl"))),
        "openssl is not installed (apt-get install openssl; .ci/run does where it is missing)");
  }
}
