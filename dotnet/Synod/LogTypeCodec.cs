using System.Text;

namespace Synod;

/// <summary>
/// The one encoding of log types every binding shares (bindings/LOG_TYPES.md), between a
/// <see cref="LogType"/> with its data and the native entry type with its payload.
/// </summary>
/// <remarks>
/// A number is the native entry type and the payload is the data. A string's native entry
/// type is <see cref="StringFlag"/> | FNV-1a-32 of its UTF-8 bytes, and its payload is
/// <c>[1 byte: n][n bytes: UTF-8][data]</c>. Decoding never fails: a flagged entry whose
/// payload is not a valid frame of its type reads as the number it carries, whole.
/// </remarks>
internal static class LogTypeCodec
{
    /// <summary>Set in the native entry type of every string type.</summary>
    internal const uint StringFlag = 0x8000_0000;

    /// <summary>Bytes a string type's frame may add to the user's data.</summary>
    internal const int MaxOverhead = 1 + LogType.MaxNameBytes;

    /// <summary>UTF-8 that throws on lone surrogates and malformed bytes instead of replacing them.</summary>
    internal static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>FNV-1a-32 of <paramref name="utf8"/>.</summary>
    internal static uint Hash(ReadOnlySpan<byte> utf8)
    {
        uint hash = 2166136261;
        foreach (byte b in utf8)
        {
            hash ^= b;
            hash *= 16777619;
        }
        return hash;
    }

    /// <summary>The payload's length for <paramref name="dataLength"/> bytes of <paramref name="type"/>.</summary>
    internal static int EncodedLength(LogType type, int dataLength) =>
        type.Utf8 is null ? dataLength : 1 + type.Utf8.Length + dataLength;

    /// <summary>Writes the payload of <paramref name="type"/> and <paramref name="data"/> into
    /// <paramref name="destination"/>, which holds at least <see cref="EncodedLength"/> bytes.</summary>
    internal static void Write(LogType type, ReadOnlySpan<byte> data, Span<byte> destination)
    {
        if (type.Utf8 is not { } utf8)
        {
            data.CopyTo(destination);
            return;
        }
        destination[0] = (byte)utf8.Length;
        utf8.CopyTo(destination[1..]);
        data.CopyTo(destination[(1 + utf8.Length)..]);
    }

    /// <summary>Splits a delivered payload into its type and a copy of its data.</summary>
    internal static (LogType Type, byte[] Data) Read(ReadOnlySpan<byte> payload, uint entryType)
    {
        if ((entryType & StringFlag) != 0 && payload.Length >= 1)
        {
            int n = payload[0];
            if (n > 0 && 1 + n <= payload.Length)
            {
                ReadOnlySpan<byte> utf8 = payload.Slice(1, n);
                if ((StringFlag | Hash(utf8)) == entryType)
                {
                    try
                    {
                        string name = StrictUtf8.GetString(utf8);
                        return (LogType.Delivered(name, utf8.ToArray(), entryType), payload[(1 + n)..].ToArray());
                    }
                    catch (ArgumentException)
                    {
                        // Not UTF-8, so not a frame: the entry keeps its number and whole payload.
                    }
                }
            }
        }
        return (LogType.Delivered(entryType), payload.ToArray());
    }
}
