namespace Synod;

/// <summary>
/// What the host says an entry is: a string (as in Kommander's
/// <c>ReplicateLogs(partition, "OrderPlaced", payload)</c>) or a number.
/// </summary>
/// <remarks>
/// Every binding encodes a log type the same way (bindings/LOG_TYPES.md), so entries written
/// by a C, Python or Java node read back here with the same type and data, and the other
/// way round. A number (1..<see cref="MaxNumber"/>) is the native entry type itself and
/// leaves the data as it is; a string travels at the front of the payload and the native
/// entry type is its flagged FNV-1a hash. A string converts implicitly, so
/// <c>ReplicateLogsAsync(1, "OrderPlaced", data)</c> and <c>log.Type == "OrderPlaced"</c>
/// read as they did; numbers are made with <see cref="Of(uint)"/>.
/// </remarks>
public sealed class LogType : IEquatable<LogType>
{
    /// <summary>The largest number type; higher native entry types mark strings.</summary>
    public const uint MaxNumber = 0x7FFF_FFFF;

    /// <summary>The longest string type, in UTF-8 bytes: its length travels in one byte.</summary>
    public const int MaxNameBytes = 255;

    private readonly string? _name;

    private LogType(string? name, byte[]? utf8, uint entryType)
    {
        _name = name;
        Utf8 = utf8;
        EntryType = entryType;
    }

    /// <summary>The string's UTF-8 bytes, framed before the data; null for a number.</summary>
    internal byte[]? Utf8 { get; }

    /// <summary>The native uint32 entry type the C ABI carries.</summary>
    public uint EntryType { get; }

    /// <summary>Whether this is a string type.</summary>
    public bool IsString => _name is not null;

    /// <summary>The string of a string type.</summary>
    /// <exception cref="InvalidOperationException">This is a number type.</exception>
    public string Name => _name ?? throw new InvalidOperationException($"log type {EntryType} is a number");

    /// <summary>The number of a number type: 1..<see cref="MaxNumber"/>, or above it only for
    /// an entry written through the C ABI with such a native type and no valid string frame.</summary>
    /// <exception cref="InvalidOperationException">This is a string type.</exception>
    public uint Number => _name is null ? EntryType : throw new InvalidOperationException($"log type \"{_name}\" is a string");

    /// <summary>The string type <paramref name="name"/>: not empty, at most
    /// <see cref="MaxNameBytes"/> UTF-8 bytes, well-formed (no lone surrogates). Compared as
    /// written, with no normalisation.</summary>
    /// <exception cref="ArgumentException">It is null, empty, too long or not well-formed.</exception>
    public static LogType Of(string name)
    {
        ArgumentException.ThrowIfNullOrEmpty(name);
        byte[] utf8;
        try
        {
            utf8 = LogTypeCodec.StrictUtf8.GetBytes(name);
        }
        catch (ArgumentException e)
        {
            throw new ArgumentException("the log type is not well-formed Unicode", nameof(name), e);
        }
        if (utf8.Length > MaxNameBytes)
        {
            throw new ArgumentException($"the log type is {utf8.Length} UTF-8 bytes long; at most {MaxNameBytes} fit", nameof(name));
        }
        return new LogType(name, utf8, LogTypeCodec.StringFlag | LogTypeCodec.Hash(utf8));
    }

    /// <summary>The number type <paramref name="number"/>, 1..<see cref="MaxNumber"/>.</summary>
    /// <exception cref="ArgumentOutOfRangeException">0 (the engine's) or above <see cref="MaxNumber"/>
    /// (such native types mark strings).</exception>
    public static LogType Of(uint number)
    {
        if (number is 0 or > MaxNumber)
        {
            throw new ArgumentOutOfRangeException(nameof(number), number, $"a number log type is 1..{MaxNumber}");
        }
        return new LogType(null, null, number);
    }

    /// <summary>A delivered string type, already checked against its native type.</summary>
    internal static LogType Delivered(string name, byte[] utf8, uint entryType) => new(name, utf8, entryType);

    /// <summary>A delivered number type: any native type, as decoding never fails.</summary>
    internal static LogType Delivered(uint entryType) => new(null, null, entryType);

    /// <summary>The string type <paramref name="name"/> (see <see cref="Of(string)"/>).</summary>
    public static implicit operator LogType(string name) => Of(name);

    /// <inheritdoc/>
    public bool Equals(LogType? other) => other is not null && EntryType == other.EntryType && _name == other._name;

    /// <inheritdoc/>
    public override bool Equals(object? obj) => Equals(obj as LogType);

    /// <inheritdoc/>
    public override int GetHashCode() => (int)EntryType;

    /// <summary>Whether both are the same type (or both null).</summary>
    public static bool operator ==(LogType? left, LogType? right) => left is null ? right is null : left.Equals(right);

    /// <summary>Whether they differ.</summary>
    public static bool operator !=(LogType? left, LogType? right) => !(left == right);

    /// <summary>The string, or the number in decimal.</summary>
    public override string ToString() => _name ?? EntryType.ToString(System.Globalization.CultureInfo.InvariantCulture);
}
