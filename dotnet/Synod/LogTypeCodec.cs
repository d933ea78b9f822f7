using System.Text;

namespace Synod;

/// <summary>
/// Maps the string type of an entry onto the native uint32 entry type and back.
/// </summary>
/// <remarks>
/// The native entry type is the 32-bit FNV-1a hash of the type's UTF-8 bytes (0, which the
/// engine reserves, becomes 1), so any binding can route on it without a registry. A hash
/// cannot be inverted and may collide, so the string itself travels in the payload:
/// <c>[1 byte: n = UTF-8 length of type][n bytes: type][user data]</c>. On delivery the
/// frame is accepted only if it fits and its type hashes to the native entry type; an entry
/// another binding wrote without the frame then shows up with an empty type and its whole
/// payload. This works on every node, after restarts, with no coordination between nodes.
/// </remarks>
internal static class LogTypeCodec
{
    /// <summary>The longest type, in UTF-8 bytes, that fits the one-byte length prefix.</summary>
    internal const int MaxTypeBytes = 255;

    /// <summary>Bytes the frame may add to the user's data.</summary>
    internal const int MaxOverhead = 1 + MaxTypeBytes;

    internal static uint Hash(ReadOnlySpan<byte> utf8)
    {
        uint hash = 2166136261;
        foreach (byte b in utf8)
        {
            hash ^= b;
            hash *= 16777619;
        }
        return hash == 0 ? 1u : hash;
    }

    /// <summary>The UTF-8 bytes of a type, validated: not empty, at most <see cref="MaxTypeBytes"/>.</summary>
    internal static byte[] EncodeType(string type)
    {
        ArgumentException.ThrowIfNullOrEmpty(type);
        byte[] utf8 = Encoding.UTF8.GetBytes(type);
        if (utf8.Length > MaxTypeBytes)
        {
            throw new ArgumentException($"the type is {utf8.Length} UTF-8 bytes long; at most {MaxTypeBytes} fit", nameof(type));
        }
        return utf8;
    }

    /// <summary>Writes the frame of <paramref name="typeUtf8"/> and <paramref name="data"/> into
    /// <paramref name="destination"/>, which holds at least <see cref="FramedLength"/> bytes.</summary>
    internal static void Write(ReadOnlySpan<byte> typeUtf8, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        destination[0] = (byte)typeUtf8.Length;
        typeUtf8.CopyTo(destination[1..]);
        data.CopyTo(destination[(1 + typeUtf8.Length)..]);
    }

    internal static int FramedLength(ReadOnlySpan<byte> typeUtf8, int dataLength) => 1 + typeUtf8.Length + dataLength;

    /// <summary>Splits a delivered payload into its type and a copy of its data.</summary>
    internal static (string Type, byte[] Data) Read(ReadOnlySpan<byte> payload, uint entryType)
    {
        if (payload.Length >= 1)
        {
            int n = payload[0];
            if (n > 0 && 1 + n <= payload.Length)
            {
                ReadOnlySpan<byte> typeUtf8 = payload.Slice(1, n);
                if (Hash(typeUtf8) == entryType)
                {
                    return (Encoding.UTF8.GetString(typeUtf8), payload[(1 + n)..].ToArray());
                }
            }
        }
        return (string.Empty, payload.ToArray());
    }
}
