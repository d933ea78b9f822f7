using System.Text;

namespace Synod.Tests;

/// <summary>The string type of an entry, carried in the payload and hashed into the native type.</summary>
public sealed class LogTypeCodecTests
{
    [Theory]
    [InlineData("a", 0xe40c292cu)]
    [InlineData("foobar", 0xbf9cf968u)]
    public void TheNativeTypeIsTheFnv1aHashOfTheUtf8Type(string type, uint expected) =>
        Assert.Equal(expected, LogTypeCodec.Hash(Encoding.UTF8.GetBytes(type)));

    [Theory]
    [InlineData("OrderPlaced", "")]
    [InlineData("x", "payload")]
    [InlineData("Ünïcødé ✓", "data with \0 inside")]
    public void AFramedEntryGivesBackItsTypeAndData(string type, string data)
    {
        byte[] typeUtf8 = LogTypeCodec.EncodeType(type);
        byte[] payload = Encoding.UTF8.GetBytes(data);
        var framed = new byte[LogTypeCodec.FramedLength(typeUtf8, payload.Length)];
        LogTypeCodec.Write(typeUtf8, payload, framed);

        (string readType, byte[] readData) = LogTypeCodec.Read(framed, LogTypeCodec.Hash(typeUtf8));
        Assert.Equal(type, readType);
        Assert.Equal(payload, readData);
    }

    [Fact]
    public void AnEntryWrittenWithoutTheFrameKeepsItsWholePayload()
    {
        byte[] foreign = { 3, (byte)'a', (byte)'b', (byte)'c', 9, 9 };
        (string type, byte[] data) = LogTypeCodec.Read(foreign, entryType: 42);
        Assert.Equal(string.Empty, type);
        Assert.Equal(foreign, data);
        Assert.Equal(string.Empty, LogTypeCodec.Read(ReadOnlySpan<byte>.Empty, 1).Type);
        Assert.Equal(string.Empty, LogTypeCodec.Read(new byte[] { 200, 1 }, 1).Type);
    }

    [Fact]
    public void TypesMustBeNonEmptyAndFitTheLengthPrefix()
    {
        Assert.Throws<ArgumentNullException>(() => LogTypeCodec.EncodeType(null!));
        Assert.Throws<ArgumentException>(() => LogTypeCodec.EncodeType(""));
        Assert.Equal(255, LogTypeCodec.EncodeType(new string('a', 255)).Length);
        // 128 two-byte characters: 256 UTF-8 bytes.
        Assert.Throws<ArgumentException>(() => LogTypeCodec.EncodeType(new string('é', 128)));
    }
}
