package org.esmp.api.testkit;

import java.nio.charset.StandardCharsets;
import java.util.Map;
import org.esmp.api.JsonCodec;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonBoolean;
import org.esmp.api.json.JsonNull;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonString;
import org.esmp.api.json.JsonValue;

/**
 * A JSON codec for plugin tests, standing in for the server's: compact output in member order, a
 * strict parser for objects (duplicate names refused), and canonical output with members sorted
 * by UTF-16 code units as RFC 8785 orders them. Numbers are written as whole numbers when they are
 * safe integers, else with {@link Double#toString}, which differs from RFC 8785 for some
 * fractions: test signing bytes against the server, not this. Thread-safe.
 */
public final class TestJsonCodec implements JsonCodec {

  @Override
  public byte[] write(JsonValue value) {
    StringBuilder out = new StringBuilder();
    write(value, out);
    return out.toString().getBytes(StandardCharsets.UTF_8);
  }

  @Override
  public byte[] canonical(JsonValue value) {
    return write(sorted(value));
  }

  /** {@code value} with every object's members in RFC 8785 order. */
  private static JsonValue sorted(JsonValue value) {
    if (value instanceof JsonObject o) {
      JsonObject.Builder out = JsonObject.builder();
      new java.util.TreeMap<>(o.members()).forEach((name, member) -> out.put(name, sorted(member)));
      return out.build();
    }
    if (value instanceof JsonArray a) {
      JsonArray.Builder out = JsonArray.builder();
      for (int i = 0; i < a.size(); i++) {
        out.add(sorted(a.get(i)));
      }
      return out.build();
    }
    return value;
  }

  @Override
  public JsonObject parseObject(byte[] utf8) {
    Parser parser = new Parser(new String(utf8, StandardCharsets.UTF_8));
    JsonValue value = parser.value();
    parser.skipSpace();
    if (parser.pos != parser.text.length() || !(value instanceof JsonObject object)) {
      throw new IllegalArgumentException("not one JSON object");
    }
    return object;
  }

  private static void write(JsonValue value, StringBuilder out) {
    if (value instanceof JsonObject o) {
      out.append('{');
      boolean first = true;
      for (Map.Entry<String, JsonValue> member : o.members().entrySet()) {
        if (!first) {
          out.append(',');
        }
        first = false;
        writeString(member.getKey(), out);
        out.append(':');
        write(member.getValue(), out);
      }
      out.append('}');
    } else if (value instanceof JsonArray a) {
      out.append('[');
      for (int i = 0; i < a.size(); i++) {
        if (i > 0) {
          out.append(',');
        }
        write(a.get(i), out);
      }
      out.append(']');
    } else if (value instanceof JsonString s) {
      writeString(s.value(), out);
    } else if (value instanceof JsonNumber n) {
      out.append(n.isSafeInteger() ? Long.toString(n.longValue()) : Double.toString(n.value()));
    } else if (value instanceof JsonBoolean b) {
      out.append(b.value());
    } else {
      out.append("null");
    }
  }

  private static void writeString(String s, StringBuilder out) {
    out.append('"');
    for (int i = 0; i < s.length(); i++) {
      char c = s.charAt(i);
      if (c == '"' || c == '\\') {
        out.append('\\').append(c);
      } else if (c < 0x20) {
        out.append(String.format("\\u%04x", (int) c));
      } else {
        out.append(c);
      }
    }
    out.append('"');
  }

  private static final class Parser {
    final String text;
    int pos;

    Parser(String text) {
      this.text = text;
    }

    void skipSpace() {
      while (pos < text.length() && Character.isWhitespace(text.charAt(pos))) {
        pos++;
      }
    }

    JsonValue value() {
      skipSpace();
      char c = text.charAt(pos);
      switch (c) {
        case '{': {
          pos++;
          JsonObject.Builder o = JsonObject.builder();
          skipSpace();
          if (text.charAt(pos) == '}') {
            pos++;
            return o.build();
          }
          while (true) {
            skipSpace();
            String name = string();
            skipSpace();
            expect(':');
            if (!o.putNew(name, value())) {
              throw new IllegalArgumentException("duplicate key " + name);
            }
            skipSpace();
            if (text.charAt(pos++) == '}') {
              return o.build();
            }
          }
        }
        case '[': {
          pos++;
          JsonArray.Builder a = JsonArray.builder();
          skipSpace();
          if (text.charAt(pos) == ']') {
            pos++;
            return a.build();
          }
          while (true) {
            a.add(value());
            skipSpace();
            if (text.charAt(pos++) == ']') {
              return a.build();
            }
          }
        }
        case '"':
          return new JsonString(string());
        case 't':
          pos += 4;
          return JsonBoolean.TRUE;
        case 'f':
          pos += 5;
          return JsonBoolean.FALSE;
        case 'n':
          pos += 4;
          return JsonNull.INSTANCE;
        default: {
          int start = pos;
          while (pos < text.length() && "+-0123456789.eE".indexOf(text.charAt(pos)) >= 0) {
            pos++;
          }
          return new JsonNumber(Double.parseDouble(text.substring(start, pos)));
        }
      }
    }

    private String string() {
      expect('"');
      StringBuilder s = new StringBuilder();
      while (true) {
        char c = text.charAt(pos++);
        if (c == '"') {
          return s.toString();
        }
        if (c == '\\') {
          char e = text.charAt(pos++);
          if (e == 'u') {
            s.append((char) Integer.parseInt(text.substring(pos, pos + 4), 16));
            pos += 4;
          } else {
            s.append(e);
          }
        } else {
          s.append(c);
        }
      }
    }

    private void expect(char c) {
      if (text.charAt(pos++) != c) {
        throw new IllegalArgumentException("expected " + c + " at " + (pos - 1));
      }
    }
  }
}
