package org.esmp.api;

import java.util.Objects;

/**
 * An ESMP address, {@code local#domain}: all lowercase ASCII, {@code local} 1–64 characters of
 * {@code [a-z0-9._-]} that begin and end with {@code [a-z0-9]} and hold no {@code ..}, {@code
 * domain} a DNS name (ESMP/1 section 2).
 */
public record Address(String local, String domain) {

  /** Checks both parts; throws {@link IllegalArgumentException} when either is malformed. */
  public Address {
    Objects.requireNonNull(local, "local");
    Objects.requireNonNull(domain, "domain");
    if (!isLocalPart(local)) {
      throw new IllegalArgumentException("bad local part: " + local);
    }
    if (!isDomain(domain)) {
      throw new IllegalArgumentException("bad domain: " + domain);
    }
  }

  /**
   * Parses {@code local#domain}.
   *
   * @throws IllegalArgumentException when {@code text} is not an address
   */
  public static Address parse(String text) {
    int hash = text.indexOf('#');
    if (hash < 0 || hash != text.lastIndexOf('#')) {
      throw new IllegalArgumentException("an address is local#domain: " + text);
    }
    return new Address(text.substring(0, hash), text.substring(hash + 1));
  }

  /** Whether {@code text} is a well-formed address. */
  public static boolean isValid(String text) {
    int hash = text.indexOf('#');
    return hash >= 0
        && hash == text.lastIndexOf('#')
        && isLocalPart(text.substring(0, hash))
        && isDomain(text.substring(hash + 1));
  }

  /** Whether {@code domain} is a lowercase DNS name: labels of 1–63 {@code [a-z0-9-]}, no edge hyphens. */
  public static boolean isDomain(String domain) {
    if (domain.isEmpty() || domain.length() > 253) {
      return false;
    }
    int labelStart = 0;
    for (int i = 0; i <= domain.length(); i++) {
      if (i == domain.length() || domain.charAt(i) == '.') {
        int length = i - labelStart;
        if (length < 1 || length > 63 || domain.charAt(labelStart) == '-' || domain.charAt(i - 1) == '-') {
          return false;
        }
        labelStart = i + 1;
      } else {
        char c = domain.charAt(i);
        if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-')) {
          return false;
        }
      }
    }
    return true;
  }

  /** 1–64 of {@code [a-z0-9._-]}, first and last {@code [a-z0-9]}, no {@code ..}. */
  private static boolean isLocalPart(String local) {
    if (local.isEmpty() || local.length() > 64
        || !isLetterOrDigit(local.charAt(0)) || !isLetterOrDigit(local.charAt(local.length() - 1))
        || local.contains("..")) {
      return false;
    }
    for (int i = 0; i < local.length(); i++) {
      char c = local.charAt(i);
      if (!(isLetterOrDigit(c) || c == '.' || c == '_' || c == '-')) {
        return false;
      }
    }
    return true;
  }

  private static boolean isLetterOrDigit(char c) {
    return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
  }

  /** The wire form, {@code local#domain}. */
  @Override
  public String toString() {
    return local + '#' + domain;
  }
}
