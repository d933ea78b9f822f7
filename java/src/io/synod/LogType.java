package io.synod;

import java.nio.ByteBuffer;
import java.nio.CharBuffer;
import java.nio.charset.CharacterCodingException;
import java.nio.charset.CodingErrorAction;
import java.nio.charset.StandardCharsets;
import java.util.Arrays;
import java.util.Objects;

/**
 * What the host says an entry is: a number or a string (as in Kommander's
 * {@code ReplicateLogs(partition, "OrderPlaced", payload)}). Every binding encodes it the
 * same way (bindings/LOG_TYPES.md), so an entry written by a C, Python or .NET node reads
 * back here with the same type and data, and the other way round.
 *
 * <p>A number (1..{@link #MAX_NUMBER}) is the native entry type itself and leaves the data
 * as it is. A string (1..{@link #MAX_STRING_BYTES} bytes of UTF-8) travels at the front of
 * the payload, and the native entry type is its flagged FNV-1a hash.
 */
public final class LogType {
  /** The largest number a host may write; higher native types mark strings. */
  public static final long MAX_NUMBER = 0x7FFFFFFFL;
  /** The longest string, in UTF-8 bytes: its length travels in one byte. */
  public static final int MAX_STRING_BYTES = 255;
  /** The most bytes a string type adds to an entry's payload. */
  public static final int MAX_OVERHEAD = 1 + MAX_STRING_BYTES;

  private static final int STRING_FLAG = 0x80000000;

  private final String name; // null for a number
  private final byte[] utf8; // the name's bytes; null for a number
  private final int entryType; // the native uint32, as the same bits

  private LogType(String name, byte[] utf8, int entryType) {
    this.name = name;
    this.utf8 = utf8;
    this.entryType = entryType;
  }

  /**
   * The string type `name`: not empty, at most {@link #MAX_STRING_BYTES} bytes in UTF-8,
   * and well-formed (no lone surrogates). Compared as written, with no normalisation.
   *
   * @throws IllegalArgumentException when it is empty, too long or not well-formed
   */
  public static LogType of(String name) {
    Objects.requireNonNull(name, "name");
    if (name.isEmpty()) {
      throw new IllegalArgumentException("a log type must not be empty");
    }
    byte[] utf8;
    try {
      ByteBuffer encoded = StandardCharsets.UTF_8.newEncoder()
          .onMalformedInput(CodingErrorAction.REPORT)
          .onUnmappableCharacter(CodingErrorAction.REPORT)
          .encode(CharBuffer.wrap(name));
      utf8 = Arrays.copyOf(encoded.array(), encoded.limit());
    } catch (CharacterCodingException e) {
      throw new IllegalArgumentException("the log type is not well-formed Unicode: " + e.getMessage());
    }
    if (utf8.length > MAX_STRING_BYTES) {
      throw new IllegalArgumentException(
          "the log type is " + utf8.length + " UTF-8 bytes long; at most " + MAX_STRING_BYTES + " fit");
    }
    return new LogType(name, utf8, STRING_FLAG | fnv1a(utf8, 0, utf8.length));
  }

  /**
   * The number type `number`, 1..{@link #MAX_NUMBER}.
   *
   * @throws IllegalArgumentException outside that range (0 is the engine's; higher numbers
   *     would read as strings)
   */
  public static LogType of(long number) {
    if (number < 1 || number > MAX_NUMBER) {
      throw new IllegalArgumentException("a number log type is 1.." + MAX_NUMBER + ", not " + number);
    }
    return new LogType(null, null, (int) number);
  }

  /** Whether this is a string type. */
  public boolean isString() {
    return name != null;
  }

  /**
   * The string of a string type.
   *
   * @throws IllegalStateException for a number type
   */
  public String name() {
    if (name == null) {
      throw new IllegalStateException("log type " + number() + " is a number");
    }
    return name;
  }

  /**
   * The number of a number type: 1..{@link #MAX_NUMBER}, or above it only for an entry
   * written through the C ABI with such a native type and no valid string frame.
   *
   * @throws IllegalStateException for a string type
   */
  public long number() {
    if (name != null) {
      throw new IllegalStateException("log type \"" + name + "\" is a string");
    }
    return Integer.toUnsignedLong(entryType);
  }

  /** The native uint32 entry type the C ABI carries, as an unsigned value. */
  public long entryType() {
    return Integer.toUnsignedLong(entryType);
  }

  /** The payload the C ABI carries for `data` of this type: the data itself for a number. */
  byte[] encode(byte[] data) {
    if (utf8 == null) {
      return data;
    }
    byte[] payload = new byte[1 + utf8.length + data.length];
    payload[0] = (byte) utf8.length;
    System.arraycopy(utf8, 0, payload, 1, utf8.length);
    System.arraycopy(data, 0, payload, 1 + utf8.length, data.length);
    return payload;
  }

  /** The bits the native calls take for this type. */
  int nativeType() {
    return entryType;
  }

  /** A delivered entry's type and data; never fails, never drops bytes. */
  record Decoded(LogType type, byte[] data) {}

  /** Decodes a delivered entry of native type `entryType` (uint32 bits) and `payload`. */
  static Decoded decode(int entryType, byte[] payload) {
    if ((entryType & STRING_FLAG) != 0 && payload.length > 0) {
      int n = payload[0] & 0xFF;
      if (n > 0 && 1 + n <= payload.length && (STRING_FLAG | fnv1a(payload, 1, n)) == entryType) {
        try {
          String name = StandardCharsets.UTF_8.newDecoder()
              .onMalformedInput(CodingErrorAction.REPORT)
              .onUnmappableCharacter(CodingErrorAction.REPORT)
              .decode(ByteBuffer.wrap(payload, 1, n))
              .toString();
          return new Decoded(new LogType(name, Arrays.copyOfRange(payload, 1, 1 + n), entryType),
                             Arrays.copyOfRange(payload, 1 + n, payload.length));
        } catch (CharacterCodingException e) {
          // Not a frame: the entry keeps its number and its whole payload.
        }
      }
    }
    return new Decoded(new LogType(null, null, entryType), payload);
  }

  private static int fnv1a(byte[] bytes, int offset, int length) {
    int hash = 0x811C9DC5;
    for (int i = offset; i < offset + length; i++) {
      hash ^= bytes[i] & 0xFF;
      hash *= 0x01000193;
    }
    return hash;
  }

  @Override
  public boolean equals(Object other) {
    return other instanceof LogType t && entryType == t.entryType && Objects.equals(name, t.name);
  }

  @Override
  public int hashCode() {
    return entryType;
  }

  /** The string, or the number in decimal. */
  @Override
  public String toString() {
    return name != null ? name : Long.toString(number());
  }
}
