package org.esmp.load.net;

import static java.nio.charset.StandardCharsets.UTF_8;

/**
 * The top-level fields of a server frame that the tool acts on, read without building a JSON tree:
 * the load tool reads tens of thousands of frames a second on the machine that runs the server, so
 * its reader skips everything else (the delivered {@code message} above all) with one pass over the
 * bytes. Strings are returned raw (escapes left as they are): the values read here (types, ids,
 * error codes) never contain any.
 *
 * @param type the frame's {@code type}, or null
 * @param re the {@code re} of an answer (present, even as {@code null}, on every answer), or null
 * @param id the {@code id} of a {@code deliver}, or null
 * @param code the {@code code} of an {@code error}, or null
 * @param message the human text of an {@code error}, or null
 * @param answer whether the frame has a {@code re} member, i.e. answers a message
 */
public record ServerFrame(String type, String re, String id, String code, String message, boolean answer) {

  /** Whether this is an {@code error} frame. */
  public boolean isError() {
    return "error".equals(type);
  }

  /** Whether this is a {@code deliver} frame. */
  public boolean isDelivery() {
    return "deliver".equals(type);
  }

  /**
   * Reads {@code line}, one JSON object. A line that is not one is returned with every field null
   * (its type unknown) rather than refused: the tool counts what it does not understand.
   */
  public static ServerFrame scan(byte[] line) {
    return new Scanner(line).frame();
  }

  /** A single forward pass over one object's top-level members. */
  private static final class Scanner {
    private final byte[] b;
    private int i;
    private String type;
    private String re;
    private String id;
    private String code;
    private String message;
    private boolean answer;

    Scanner(byte[] b) {
      this.b = b;
    }

    ServerFrame frame() {
      try {
        members();
      } catch (IndexOutOfBoundsException | IllegalStateException malformed) {
        // what was read so far stands
      }
      return new ServerFrame(type, re, id, code, message, answer);
    }

    private void members() {
      skipSpace();
      expect('{');
      while (true) {
        skipSpace();
        if (b[i] == '}') {
          return;
        }
        String name = string();
        skipSpace();
        expect(':');
        skipSpace();
        int start = i;
        boolean isString = b[i] == '"';
        skipValue();
        String value = isString ? new String(b, start + 1, i - start - 2, UTF_8) : null;
        switch (name) {
          case "type" -> type = value;
          case "re" -> {
            answer = true;
            re = value;
          }
          case "id" -> id = value;
          case "code" -> code = value;
          case "message" -> message = value;
          default -> { }
        }
        if ("deliver".equals(type) && id != null) {
          return; // all a delivery is counted by; its message can be 60 KB
        }
        skipSpace();
        if (b[i] == ',') {
          i++;
        } else {
          expect('}');
          return;
        }
      }
    }

    private String string() {
      int start = i;
      skipString();
      return new String(b, start + 1, i - start - 2, UTF_8);
    }

    private void skipValue() {
      switch (b[i]) {
        case '"' -> skipString();
        case '{', '[' -> skipNested();
        default -> {
          while (i < b.length && b[i] != ',' && b[i] != '}' && b[i] != ']' && !space(b[i])) {
            i++;
          }
        }
      }
    }

    private void skipString() {
      expect('"');
      while (b[i] != '"') {
        i += b[i] == '\\' ? 2 : 1;
      }
      i++;
    }

    private void skipNested() {
      int depth = 0;
      do {
        byte c = b[i];
        if (c == '"') {
          skipString();
          continue;
        }
        if (c == '{' || c == '[') {
          depth++;
        } else if (c == '}' || c == ']') {
          depth--;
        }
        i++;
      } while (depth > 0);
    }

    private void skipSpace() {
      while (i < b.length && space(b[i])) {
        i++;
      }
    }

    private static boolean space(byte c) {
      return c == ' ' || c == '\t' || c == '\r' || c == '\n';
    }

    private void expect(char c) {
      if (b[i] != c) {
        throw new IllegalStateException("expected " + c);
      }
      i++;
    }
  }
}
