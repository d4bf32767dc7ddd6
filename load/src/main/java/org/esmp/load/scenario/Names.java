package org.esmp.load.scenario;

import java.security.SecureRandom;

/**
 * Addresses and group ids of one run, unique to it ({@code load-RUN-ROLEn#domain}), so that the tool
 * can run again and again against one server without meeting its earlier addresses.
 *
 * @param run a few random lowercase letters and digits
 */
public record Names(String run, String domain) {

  private static final String ALPHABET = "abcdefghijklmnopqrstuvwxyz0123456789";

  /** Names with a fresh random run id. */
  public static Names random(String domain) {
    SecureRandom random = new SecureRandom();
    StringBuilder run = new StringBuilder();
    for (int i = 0; i < 6; i++) {
      run.append(ALPHABET.charAt(random.nextInt(ALPHABET.length())));
    }
    return new Names(run.toString(), domain);
  }

  /** The address of the {@code i}th identity of {@code role} (a few lowercase letters). */
  public String address(String role, int i) {
    return "load-" + run + "-" + role + i + "#" + domain;
  }

  /** A group id for {@code role}. */
  public String group(String role) {
    return "load-" + run + "-" + role;
  }
}
