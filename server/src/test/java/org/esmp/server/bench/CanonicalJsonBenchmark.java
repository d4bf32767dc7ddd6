package org.esmp.server.bench;

import static java.nio.charset.StandardCharsets.UTF_8;

import java.io.IOException;
import java.io.InputStream;
import java.lang.management.ManagementFactory;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.List;
import java.util.function.Function;
import org.esmp.api.json.JsonArray;
import org.esmp.api.json.JsonNumber;
import org.esmp.api.json.JsonObject;
import org.esmp.api.json.JsonValue;
import org.esmp.json.FrameParser;
import org.esmp.json.JsonWriter;

/**
 * Nanoseconds per call of {@link JsonWriter#canonicalWithout} (the signing bytes of every message
 * the server verifies) and {@link JsonWriter#write} (every frame it sends), one thread, on the
 * valid frames of the ESMP signing vectors (≈300 bytes each) and on one larger group frame
 * (≈3 KB, non-ASCII text, nested objects, fractional numbers). A scratch loop, not JMH: it counts
 * the CPU time of its own thread, which other jobs on a shared machine disturb less than they do
 * the wall clock, and the bytes it allocates per call; compare runs made on the same machine, and
 * look at the median of the rounds.
 *
 * <p>Run from the repository after {@code mvn -B -o test-compile -pl server -am}:
 * <pre>
 * mvn -B -o -q dependency:build-classpath -pl server -am -Dmdep.outputFile=target/cp.txt
 * java -cp "server/target/test-classes:server/target/classes:$(cat server/target/cp.txt)" \
 *     org.esmp.server.bench.CanonicalJsonBenchmark [rounds] [millis per round]
 * </pre>
 */
public final class CanonicalJsonBenchmark {

  private static final com.sun.management.ThreadMXBean THREADS =
      (com.sun.management.ThreadMXBean) ManagementFactory.getThreadMXBean();

  private static volatile int sink;

  private CanonicalJsonBenchmark() {}

  public static void main(String[] args) throws IOException {
    int rounds = args.length > 0 ? Integer.parseInt(args[0]) : 15;
    long roundMillis = args.length > 1 ? Long.parseLong(args[1]) : 1000;
    FrameParser parser = new FrameParser();
    List<JsonObject> vectors = vectorFrames(parser);
    List<JsonObject> large = List.of(largeFrame(parser));

    Function<JsonObject, byte[]> signing =
        f -> JsonWriter.canonicalWithout(f, "signature", "sender_pubkey");
    Function<JsonObject, byte[]> plain = JsonWriter::write;
    // Warm-up: every case, so the JIT sees the same mix as in the timed rounds.
    for (int i = 0; i < 5; i++) {
      time(vectors, signing, roundMillis);
      time(large, signing, roundMillis);
      time(vectors, plain, roundMillis);
      time(large, plain, roundMillis);
    }
    report("canonicalWithout, vector frames", vectors, signing, rounds, roundMillis);
    report("canonicalWithout, large frame", large, signing, rounds, roundMillis);
    report("write, vector frames", vectors, plain, rounds, roundMillis);
    report("write, large frame", large, plain, rounds, roundMillis);
  }

  private static void report(String name, List<JsonObject> frames,
      Function<JsonObject, byte[]> op, int rounds, long roundMillis) {
    double[] ns = new double[rounds];
    for (int r = 0; r < rounds; r++) {
      ns[r] = time(frames, op, roundMillis);
    }
    Arrays.sort(ns);
    int calls = 100_000;
    long allocated = THREADS.getCurrentThreadAllocatedBytes();
    int acc = 0;
    for (int i = 0; i < calls; i++) {
      acc += op.apply(frames.get(i % frames.size())).length;
    }
    allocated = THREADS.getCurrentThreadAllocatedBytes() - allocated;
    sink = acc;
    System.out.printf("%-34s median %8.1f ns/op (CPU)   best %8.1f   worst %8.1f   %6.0f B/op%n",
        name, ns[rounds / 2], ns[0], ns[rounds - 1], (double) allocated / calls);
  }

  /** CPU ns per call, calling {@code op} on the frames in turn for about {@code millis}. */
  private static double time(List<JsonObject> frames, Function<JsonObject, byte[]> op, long millis) {
    JsonObject[] all = frames.toArray(new JsonObject[0]);
    long deadline = System.nanoTime() + millis * 1_000_000;
    long cpu = THREADS.getCurrentThreadCpuTime();
    long calls = 0;
    int acc = 0;
    long now;
    do {
      for (int i = 0; i < 1024; i++) {
        byte[] b = op.apply(all[i % all.length]);
        acc += b.length + b[b.length / 2];
      }
      calls += 1024;
      now = System.nanoTime();
    } while (now < deadline);
    sink = acc;
    return (double) (THREADS.getCurrentThreadCpuTime() - cpu) / calls;
  }

  private static List<JsonObject> vectorFrames(FrameParser parser) throws IOException {
    byte[] json;
    try (InputStream in = CanonicalJsonBenchmark.class.getClassLoader()
        .getResourceAsStream("vectors/esmp/messages.json")) {
      if (in == null) {
        throw new IOException("no test resource vectors/esmp/messages.json");
      }
      json = in.readAllBytes();
    }
    List<JsonObject> frames = new ArrayList<>();
    for (JsonValue v : parser.parse(json, 0, json.length).get("valid").asArray()) {
      byte[] frame = v.asObject().string("frame").orElseThrow().getBytes(UTF_8);
      frames.add(parser.parse(frame, 0, frame.length));
    }
    return frames;
  }

  private static JsonObject largeFrame(FrameParser parser) {
    JsonArray.Builder to = JsonArray.builder();
    for (int i = 0; i < 20; i++) {
      to.add("member" + i + "#example.com");
    }
    JsonArray.Builder sizes = JsonArray.builder();
    for (int i = 0; i < 16; i++) {
      sizes.add(JsonObject.builder().put("w", 640 + i).put("h", 480).put("ratio",
          new JsonNumber(1.3333 + i / 7.0)).put("name", "thumb-" + i).build());
    }
    JsonObject frame = JsonObject.builder()
        .put("type", "group_text")
        .put("group", "team-Ω#example.com")
        .put("to", to.build())
        .put("ts", 1_764_000_000_003L)
        .put("body", JsonObject.builder()
            .put("text", "Grüße aus Köln — «ça va?» 日本語のテキスト 😀\n\"quoted\"\t".repeat(12))
            .put("attachments", sizes.build())
            .put("silent", false)
            .build())
        .put("signature", "NVQoAgEXf4cWt00OeKGfbHGwf6Pj5shmaOe8PMPJQPOSl1+GyOjrdcLmQvbZau8AacZpn1dULsBdFYb7oWFcDA==")
        .put("sender_pubkey", "11qYAYKxCrfVS/7TyWQHOg7hcvPapiMlrwIaaPcHURo=")
        .build();
    // Parsed back, so it is built as the server builds every frame it reads.
    byte[] bytes = JsonWriter.write(frame);
    return parser.parse(bytes, 0, bytes.length);
  }
}
