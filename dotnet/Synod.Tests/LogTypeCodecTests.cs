using System.Text;

namespace Synod.Tests;

/// <summary>The log type encoding against the vectors every binding shares (bindings/LOG_TYPES.md).</summary>
public sealed class LogTypeCodecTests
{
    private sealed record Vector(string Op, string TypeField, string[] Fields, string Line);

    private static byte[] Hex(string field) => field == "-" ? Array.Empty<byte>() : Convert.FromHexString(field);

    private static IReadOnlyList<Vector> Vectors()
    {
        // The project copies bindings/log_type_vectors.txt beside the test assembly.
        string path = Path.Combine(AppContext.BaseDirectory, "log_type_vectors.txt");
        var vectors = new List<Vector>();
        foreach (string line in File.ReadAllLines(path, Encoding.UTF8))
        {
            int comment = line.IndexOf('#');
            string[] f = (comment >= 0 ? line[..comment] : line).Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (f.Length > 0)
            {
                vectors.Add(new Vector(f[0], f[1], f[2..], line));
            }
        }
        return vectors;
    }

    /// <summary>The type a vector names, or null for a string that no .NET string can hold
    /// (not UTF-8) or that <see cref="LogType.Of(string)"/> refuses.</summary>
    private static LogType? TypeOf(string field)
    {
        if (field.StartsWith("n:", StringComparison.Ordinal))
        {
            ulong n = ulong.Parse(field[2..], System.Globalization.CultureInfo.InvariantCulture);
            return n is >= 1 and <= LogType.MaxNumber ? LogType.Of((uint)n) : null;
        }
        string name;
        try
        {
            name = LogTypeCodec.StrictUtf8.GetString(Hex(field.Length == 2 ? "-" : field[2..]));
        }
        catch (ArgumentException)
        {
            return null;
        }
        try
        {
            return LogType.Of(name);
        }
        catch (ArgumentException)
        {
            return null;
        }
    }

    [Fact]
    public void EveryVectorEncodesAndDecodesAsSpecified()
    {
        int both = 0, decode = 0, refuse = 0;
        foreach (Vector v in Vectors())
        {
            switch (v.Op)
            {
                case "both":
                {
                    both++;
                    LogType type = TypeOf(v.TypeField) ?? throw new InvalidOperationException($"no type in: {v.Line}");
                    byte[] data = Hex(v.Fields[0]);
                    var payload = new byte[LogTypeCodec.EncodedLength(type, data.Length)];
                    LogTypeCodec.Write(type, data, payload);
                    Assert.True(uint.Parse(v.Fields[1], System.Globalization.CultureInfo.InvariantCulture) == type.EntryType, v.Line);
                    Assert.True(Hex(v.Fields[2]).AsSpan().SequenceEqual(payload), v.Line);
                    CheckDecode(v);
                    break;
                }
                case "decode":
                    decode++;
                    CheckDecode(v);
                    break;
                case "refuse":
                    refuse++;
                    Assert.True(TypeOf(v.TypeField) is null, v.Line);
                    break;
                default:
                    Assert.Fail($"unknown op in: {v.Line}");
                    break;
            }
        }
        // The file is whole: a truncated or misread file fails here, not silently.
        Assert.True(both >= 10 && decode >= 8 && refuse >= 8, $"{both} {decode} {refuse}");
    }

    private static void CheckDecode(Vector v)
    {
        uint entryType = uint.Parse(v.Fields[1], System.Globalization.CultureInfo.InvariantCulture);
        (LogType type, byte[] data) = LogTypeCodec.Read(Hex(v.Fields[2]), entryType);
        if (v.TypeField.StartsWith("n:", StringComparison.Ordinal))
        {
            Assert.False(type.IsString, v.Line);
            Assert.True(uint.Parse(v.TypeField[2..], System.Globalization.CultureInfo.InvariantCulture) == type.Number, v.Line);
        }
        else
        {
            Assert.True(type == TypeOf(v.TypeField), v.Line);
            Assert.True(type.IsString, v.Line);
        }
        Assert.True(entryType == type.EntryType, v.Line);
        Assert.True(Hex(v.Fields[0]).AsSpan().SequenceEqual(data), v.Line);
    }

    [Fact]
    public void RefusedTypesThrowArgumentExceptions()
    {
        Assert.Throws<ArgumentNullException>(() => LogType.Of(null!));
        Assert.Throws<ArgumentException>(() => LogType.Of(""));
        Assert.Throws<ArgumentException>(() => LogType.Of(new string('a', 256)));
        // 128 two-byte characters: 256 UTF-8 bytes.
        Assert.Throws<ArgumentException>(() => LogType.Of(new string('é', 128)));
        Assert.Throws<ArgumentException>(() => LogType.Of("lone \ud800 surrogate"));
        Assert.Throws<ArgumentOutOfRangeException>(() => LogType.Of(0));
        Assert.Throws<ArgumentOutOfRangeException>(() => LogType.Of(LogType.MaxNumber + 1));
        Assert.Equal(255, LogType.Of(new string('a', 255)).Name.Length);
    }

    [Fact]
    public void ATypeIsEitherAStringOrANumber()
    {
        LogType s = "OrderPlaced";
        LogType n = LogType.Of(7);
        Assert.True(s.IsString);
        Assert.False(n.IsString);
        Assert.Equal("OrderPlaced", s.Name);
        Assert.Equal(7u, n.Number);
        Assert.Throws<InvalidOperationException>(() => s.Number);
        Assert.Throws<InvalidOperationException>(() => n.Name);
        Assert.Equal("OrderPlaced", s.ToString());
        Assert.Equal("7", n.ToString());
        Assert.True(s == "OrderPlaced");
        Assert.True(s != "orderPlaced");
        Assert.Equal(LogType.Of(7), n);
    }

    [Fact]
    public async Task StringAndNumberTypesRoundTripThroughACluster()
    {
        await using TestCluster cluster = TestCluster.Start();
        TestNode leader = await cluster.LeaderAsync();
        Assert.True((await leader.Node.ReplicateLogsAsync(1, "OrderPlaced", Encoding.UTF8.GetBytes("{\"id\":42}"))).Success);
        Assert.True((await leader.Node.ReplicateLogsAsync(1, LogType.Of(7), new byte[] { 1, 2 })).Success);
        foreach (TestNode node in cluster.Nodes)
        {
            await Eventually.Until(() => node.Logs().Count >= 2, $"node {node.Id} has both entries");
            IReadOnlyList<RaftLog> logs = node.Logs();
            Assert.Equal(LogType.Of("OrderPlaced"), logs[0].Type);
            Assert.Equal("{\"id\":42}", Encoding.UTF8.GetString(logs[0].Data.Span));
            Assert.Equal(LogType.Of(7), logs[1].Type);
            Assert.Equal(new byte[] { 1, 2 }, logs[1].Data.ToArray());
        }
    }
}
