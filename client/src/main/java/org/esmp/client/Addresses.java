package org.esmp.client;

import java.util.regex.Pattern;

/**
 * ESMP addresses: {@code local#domain}, all lowercase ASCII; {@code local} 1–64 of {@code
 * [a-z0-9._-]} beginning and ending with {@code [a-z0-9]}, without {@code ..}; {@code domain} a DNS
 * name (ESMP-1 §2).
 */
public final class Addresses {

  /** Begins and ends with {@code [a-z0-9]}; the length (1–64) and {@code ..} are checked apart. */
  private static final Pattern LOCAL = Pattern.compile("[a-z0-9]([a-z0-9._-]*[a-z0-9])?");
  private static final Pattern LABEL = Pattern.compile("[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?");

  private Addresses() {}

  /** Whether {@code address} is a well-formed ESMP address. */
  public static boolean isValid(String address) {
    int hash = address.indexOf('#');
    if (hash < 0 || address.indexOf('#', hash + 1) >= 0) {
      return false;
    }
    String local = address.substring(0, hash);
    String domain = address.substring(hash + 1);
    if (local.length() > 64 || local.contains("..") || !LOCAL.matcher(local).matches()
        || domain.isEmpty() || domain.length() > 253) {
      return false;
    }
    for (String label : domain.split("\\.", -1)) {
      if (!LABEL.matcher(label).matches()) {
        return false;
      }
    }
    return true;
  }

  /** {@code address}, or an {@link IllegalArgumentException} saying why it is not one. */
  public static String check(String address) {
    if (!isValid(address)) {
      throw new IllegalArgumentException("not an ESMP address (local#domain, lowercase): " + address);
    }
    return address;
  }

  /** The domain part of a valid address. */
  public static String domain(String address) {
    return address.substring(address.indexOf('#') + 1);
  }
}
