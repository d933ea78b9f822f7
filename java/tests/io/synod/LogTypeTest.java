package io.synod;

import static org.junit.jupiter.api.Assertions.assertArrayEquals;
import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertFalse;
import static org.junit.jupiter.api.Assertions.assertThrows;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.io.IOException;
import java.nio.ByteBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HexFormat;
import java.util.List;
import java.util.concurrent.TimeUnit;
import org.junit.jupiter.api.Test;

/** The log type encoding against the vectors every binding shares (bindings/LOG_TYPES.md). */
class LogTypeTest {
  /** One vector: `type` is null when the vector's string is not UTF-8 (refuse only). */
  private record Vector(String op, String typeField, LogType type, byte[] data, long entryType,
                        byte[] payload, String line) {}

  private static byte[] hex(String field) {
    return field.equals("-") ? new byte[0] : HexFormat.of().parseHex(field);
  }

  /** The type a vector names, or null for a string whose bytes are not UTF-8. */
  private static LogType typeOf(String field) {
    if (field.startsWith("n:")) {
      long n = Long.parseLong(field.substring(2));
      // Numbers a host may not write still name the type decoding yields.
      return n >= 1 && n <= LogType.MAX_NUMBER ? LogType.of(n) : LogType.decode((int) n, new byte[0]).type();
    }
    byte[] utf8 = hex(field.length() == 2 ? "-" : field.substring(2));
    String name;
    try {
      name = StandardCharsets.UTF_8.newDecoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .decode(ByteBuffer.wrap(utf8))
          .toString();
    } catch (CharacterCodingException e) {
      return null;
    }
    try {
      return LogType.of(name);
    } catch (IllegalArgumentException e) {
      return null;
    }
  }

  private static List<Vector> vectors() throws IOException {
    String path = System.getProperty("synod.logTypeVectors");
    if (path == null) {
      fail("the suite runs with -Dsynod.logTypeVectors=<bindings/log_type_vectors.txt>");
    }
    List<Vector> vectors = new ArrayList<>();
    for (String line : Files.readAllLines(Path.of(path), StandardCharsets.UTF_8)) {
      int comment = line.indexOf('#');
      String[] f = (comment >= 0 ? line.substring(0, comment) : line).trim().split("\\s+");
      if (f.length == 1 && f[0].isEmpty()) {
        continue;
      }
      if (f[0].equals("refuse")) {
        vectors.add(new Vector(f[0], f[1], null, null, 0, null, line));
      } else {
        vectors.add(new Vector(f[0], f[1], typeOf(f[1]), hex(f[2]), Long.parseLong(f[3]), hex(f[4]), line));
      }
    }
    return vectors;
  }

  @Test
  void everyVectorEncodesAndDecodesAsSpecified() throws IOException {
    int both = 0;
    int decode = 0;
    int refuse = 0;
    for (Vector v : vectors()) {
      switch (v.op()) {
        case "both" -> {
          both++;
          assertTrue(v.type() != null, v.line());
          assertEquals(v.entryType(), v.type().entryType(), v.line());
          assertArrayEquals(v.payload(), v.type().encode(v.data()), v.line());
          checkDecode(v);
        }
        case "decode" -> {
          decode++;
          checkDecode(v);
        }
        case "refuse" -> {
          refuse++;
          String field = v.typeField();
          if (field.startsWith("n:")) {
            long n = Long.parseLong(field.substring(2));
            assertThrows(IllegalArgumentException.class, () -> LogType.of(n), v.line());
          } else {
            // Either not UTF-8 (no Java string holds it) or refused by LogType.of.
            assertEquals(null, typeOf(field), v.line());
          }
        }
        default -> fail("unknown op in " + v.line());
      }
    }
    // The file is whole: a truncated or misread file fails here, not silently.
    assertTrue(both >= 10 && decode >= 8 && refuse >= 8, both + " " + decode + " " + refuse);
  }

  private static void checkDecode(Vector v) {
    LogType.Decoded d = LogType.decode((int) v.entryType(), v.payload());
    assertEquals(v.type(), d.type(), v.line());
    assertEquals(v.type().isString(), d.type().isString(), v.line());
    assertEquals(v.entryType(), d.type().entryType(), v.line());
    assertArrayEquals(v.data(), d.data(), v.line());
  }

  @Test
  void refusedStringsAreRefusedByLogTypeOf() {
    assertThrows(IllegalArgumentException.class, () -> LogType.of(""));
    assertThrows(IllegalArgumentException.class, () -> LogType.of("a".repeat(256)));
    assertThrows(IllegalArgumentException.class, () -> LogType.of("\u00e9".repeat(128)));
    assertThrows(IllegalArgumentException.class, () -> LogType.of("lone \ud800 surrogate"));
    assertEquals(255, LogType.of("a".repeat(255)).name().length());
  }

  @Test
  void aTypeIsEitherAStringOrANumber() {
    LogType s = LogType.of("OrderPlaced");
    LogType n = LogType.of(7);
    assertTrue(s.isString());
    assertFalse(n.isString());
    assertEquals("OrderPlaced", s.name());
    assertEquals(7, n.number());
    assertThrows(IllegalStateException.class, s::number);
    assertThrows(IllegalStateException.class, n::name);
    assertEquals("OrderPlaced", s.toString());
    assertEquals("7", n.toString());
    assertEquals(LogType.of("OrderPlaced"), s);
    assertFalse(s.equals(LogType.of("orderPlaced")));
  }

  @Test
  void stringAndNumberTypesRoundTripThroughACluster() throws Exception {
    try (TestCluster cluster = new TestCluster(3)) {
      RaftNode leader = cluster.leader(1);
      leader.replicate(1, "OrderPlaced", "{\"id\":42}".getBytes(StandardCharsets.UTF_8))
          .get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      leader.replicate(1, 7, new byte[] {1, 2}).get(TestCluster.WAIT.toSeconds(), TimeUnit.SECONDS);
      for (long id : cluster.nodes.keySet()) {
        List<Entry> seen = cluster.awaitEntries(id, 2);
        assertEquals(LogType.of("OrderPlaced"), seen.get(0).type());
        assertArrayEquals("{\"id\":42}".getBytes(StandardCharsets.UTF_8), seen.get(0).data());
        assertEquals(LogType.of(7), seen.get(1).type());
        assertArrayEquals(new byte[] {1, 2}, seen.get(1).data());
      }
    }
  }
}
