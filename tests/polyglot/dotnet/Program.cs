// The .NET node of the four-language cluster (tests/polyglot/README.md has the protocol).
//
//   dotnet PolyglotNode.dll <node id> <members, comma-separated> <tick ms> <election ticks>
//
// Starts a node on gRPC 127.0.0.1:0 and prints "ready <port>". Commands arrive on stdin,
// one a line, each answered by one line on stdout; the node's dispatch thread prints the
// committed entries and the leader changes of partition 1 as they come. Log types are
// the binding's LogType, a string or a number (bindings/LOG_TYPES.md).
using System.Globalization;
using System.Text;
using Synod;

const int Partition = 1;
var output = new object();

void Emit(string line)
{
    lock (output)
    {
        Console.Out.Write(line + "\n");
        Console.Out.Flush();
    }
}

static string ToHex(ReadOnlySpan<byte> data) => data.IsEmpty ? "-" : Convert.ToHexString(data).ToLowerInvariant();
static byte[] FromHex(string text) => text == "-" ? Array.Empty<byte>() : Convert.FromHexString(text);
static ulong Number(string text) => ulong.Parse(text, NumberStyles.None, CultureInfo.InvariantCulture);

if (args.Length != 4)
{
    Console.Error.WriteLine("usage: PolyglotNode <node id> <members> <tick ms> <election ticks>");
    return 2;
}
var configuration = new RaftConfiguration
{
    NodeId = Number(args[0]),
    TickInterval = TimeSpan.FromMilliseconds(Number(args[2])),
    ElectionTicks = (int)Number(args[3]),
    GrpcListenAddress = "127.0.0.1:0",
};
foreach (string member in args[1].Split(','))
{
    configuration.Members.Add(Number(member));
}

var node = new RaftNode(configuration);
node.OnReplicationReceived += (partition, log) =>
{
    if (partition != Partition)
    {
        return;
    }
    string type = log.Type.IsString
        ? "s " + ToHex(Encoding.UTF8.GetBytes(log.Type.Name))
        : "n " + log.Type.Number.ToString(CultureInfo.InvariantCulture);
    Emit(string.Create(CultureInfo.InvariantCulture, $"entry {log.Index} {log.Term} {type} {ToHex(log.Data.Span)}"));
};
node.OnLeaderChanged += (partition, leader) =>
{
    if (partition == Partition)
    {
        Emit(string.Create(CultureInfo.InvariantCulture, $"leader {leader}"));
    }
};
node.Start();
Emit(string.Create(CultureInfo.InvariantCulture, $"ready {node.ListenPort}"));

while (await Console.In.ReadLineAsync() is { } line)
{
    string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
    if (words.Length == 0)
    {
        continue;
    }
    if (words[0] == "quit")
    {
        break;
    }
    try
    {
        if (words[0] == "peer" && words.Length == 3)
        {
            node.SetPeerAddress(Number(words[1]), words[2]);
            Emit("ok");
        }
        else if (words[0] == "transfer" && words.Length == 2)
        {
            // Waits (at most the request timeout) for the outcome; the driver watches the
            // leader changes either way.
            await node.TransferLeadershipAsync(Partition, Number(words[1]));
            Emit("ok");
        }
        else if (words[0] == "write" && words.Length == 4)
        {
            LogType type = words[1] == "s"
                ? LogType.Of(Encoding.UTF8.GetString(FromHex(words[2])))
                : LogType.Of((uint)Number(words[2]));
            ReplicationResult result = await node.ReplicateLogsAsync(Partition, type, FromHex(words[3]));
            Emit(result.Success
                ? string.Create(CultureInfo.InvariantCulture, $"ok {result.LogIndex}")
                : $"error {result.Status}");
        }
        else
        {
            Emit("error unknown command");
        }
    }
    catch (Exception e) when (e is SynodException or ArgumentException or FormatException)
    {
        Emit($"error {e.GetType().Name}: {e.Message.ReplaceLineEndings(" ")}");
    }
}
await node.DisposeAsync();
Emit("ok");
return 0;
