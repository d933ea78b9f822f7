using System.Globalization;
using System.Text;
using Synod.Interop;

namespace Synod.Tests;

/// <summary>The .NET runner of the scenarios every binding shares (bindings/scenarios/README.md):
/// each *.scenario file is one case.</summary>
public sealed class ScenarioTests
{
    // The project copies bindings/scenarios beside the test assembly.
    private static readonly string ScenarioDirectory = Path.Combine(AppContext.BaseDirectory, "scenarios");

    public static TheoryData<string> Names()
    {
        var names = new TheoryData<string>();
        foreach (string file in Directory.GetFiles(ScenarioDirectory, "*.scenario").Order(StringComparer.Ordinal))
        {
            names.Add(Path.GetFileNameWithoutExtension(file));
        }
        return names;
    }

    [Fact]
    public void EveryScenarioIsFound() => Assert.True(Names().Count >= 7);

    [Theory]
    [MemberData(nameof(Names))]
    public async Task Runs(string name)
    {
        string directory = Path.Combine(Path.GetTempPath(), $"synod-scenario-{name}-{Environment.ProcessId}");
        var runner = new Runner(directory);
        try
        {
            foreach (string line in File.ReadAllLines(Path.Combine(ScenarioDirectory, name + ".scenario"), Encoding.UTF8))
            {
                try
                {
                    await runner.RunAsync(line);
                }
                catch (Exception e) when (e is not OperationCanceledException)
                {
                    throw new InvalidOperationException($"step \"{line}\": {e.Message}", e);
                }
            }
        }
        finally
        {
            await runner.DisposeAsync();
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private sealed record Written(LogType Type, byte[] Data, long Index);

    private sealed class Runner(string directory) : IAsyncDisposable
    {
        private static readonly SynodStatus[] IsolatedFailures =
            { SynodStatus.Timeout, SynodStatus.NotLeader, SynodStatus.NoLeader, SynodStatus.Dropped };

        private readonly List<Written> _written = new();
        private TestCluster? _cluster;
        private ulong _leader;
        private ulong _isolated;

        private TestCluster Cluster => _cluster ?? throw new InvalidOperationException("no cluster step yet");

        internal async Task RunAsync(string line)
        {
            int comment = line.IndexOf('#');
            var fields = new List<string>();
            var options = new Dictionary<string, string>();
            foreach (string word in (comment >= 0 ? line[..comment] : line).Split(' ', StringSplitOptions.RemoveEmptyEntries))
            {
                int eq = word.IndexOf('=');
                if (eq >= 0)
                {
                    options[word[..eq]] = word[(eq + 1)..];
                }
                else if (fields.Count > 0 && fields[0] == "cluster" && word == "durable")
                {
                    options[word] = "";
                }
                else
                {
                    fields.Add(word);
                }
            }
            if (fields.Count > 0)
            {
                await StepAsync(fields, options);
            }
        }

        private static int Int(string s) => int.Parse(s, CultureInfo.InvariantCulture);

        private static LogType Type(string field) =>
            field.StartsWith("n:", StringComparison.Ordinal) ? LogType.Of(uint.Parse(field[2..], CultureInfo.InvariantCulture)) : LogType.Of(field[2..]);

        private static byte[] Data(string field, int i = 0) =>
            field == "-" ? Array.Empty<byte>()
            : field.StartsWith("bytes:", StringComparison.Ordinal) ? Enumerable.Repeat((byte)'a', Int(field[6..])).ToArray()
            : Encoding.UTF8.GetBytes(field.Replace("{i}", i.ToString(CultureInfo.InvariantCulture), StringComparison.Ordinal));

        private async Task StepAsync(List<string> f, Dictionary<string, string> options)
        {
            switch (f[0])
            {
                case "cluster":
                    _cluster = TestCluster.Start(Int(f[1]), adjust: c =>
                    {
                        c.TickInterval = TimeSpan.FromMilliseconds(5);
                        if (options.TryGetValue("max_payload_bytes", out string? max))
                        {
                            c.MaxPayloadBytes = Int(max);
                        }
                        if (options.TryGetValue("request_timeout_ms", out string? timeout))
                        {
                            c.RequestTimeout = TimeSpan.FromMilliseconds(Int(timeout));
                        }
                        if (options.ContainsKey("durable"))
                        {
                            c.Storage = StorageEngine.RocksDb;
                            c.DataDirectory = Path.Combine(directory, $"node-{c.NodeId}");
                            c.Sync = false;
                        }
                    });
                    break;
                case "await_leader":
                    _leader = (await Cluster.LeaderAsync(1, Cluster.Nodes.Where(n => n.Id != _isolated))).Id;
                    break;
                case "write":
                    int count = f.Count > 3 ? Int(f[3][1..]) : 1;
                    for (int i = 0; i < count; i++)
                    {
                        LogType type = Type(f[1]);
                        byte[] data = Data(f[2], i);
                        ReplicationResult r = await Cluster.Node(_leader).Node.ReplicateLogsAsync(1, type, data);
                        Assert.Equal(SynodStatus.Ok, r.Status);
                        Assert.True(_written.Count == 0 || r.LogIndex > _written[^1].Index, "indexes increase");
                        _written.Add(new Written(type, data, r.LogIndex));
                    }
                    break;
                case "refuse":
                    int partition = options.TryGetValue("partition", out string? p) ? Int(p) : 1;
                    SynodStatus expected = Enum.Parse<SynodStatus>(f[1].Replace("_", "", StringComparison.Ordinal), ignoreCase: true);
                    Assert.Equal(expected, await OutcomeAsync(_leader, partition, f[2], f[3]));
                    break;
                case "isolate_leader":
                    Cluster.Network.Isolate(_leader);
                    (_isolated, _leader) = (_leader, 0);
                    break;
                case "write_isolated_fails":
                    Assert.Contains(await OutcomeAsync(_isolated, 1, f[1], f[2]), IsolatedFailures);
                    break;
                case "heal":
                    Cluster.Network.Heal();
                    _isolated = 0;
                    break;
                case "expect_entries":
                    await ExpectEntriesAsync(options.TryGetValue("from", out string? from) ? Int(from) : 1);
                    break;
                case "report_applied":
                    foreach (TestNode node in Cluster.Nodes)
                    {
                        node.Node.ReportApplied(1, _written[Int(f[1]) - 1].Index);
                    }
                    break;
                case "restart":
                    await Cluster.RestartAsync();
                    break;
                case "close_with_pending":
                    await CloseWithPendingAsync(Int(f[1]));
                    break;
                default:
                    Assert.Fail($"unknown step {f[0]}");
                    break;
            }
        }

        /// <summary>How a proposal through node <paramref name="id"/> ends; a type the binding
        /// itself refuses (an argument exception) is InvalidArgument.</summary>
        private async Task<SynodStatus> OutcomeAsync(ulong id, int partition, string type, string data)
        {
            LogType logType;
            try
            {
                logType = Type(type);
            }
            catch (ArgumentException)
            {
                return SynodStatus.InvalidArgument;
            }
            return (await Cluster.Node(id).Node.ReplicateLogsAsync(partition, logType, Data(data))).Status;
        }

        private async Task ExpectEntriesAsync(int from)
        {
            Written[] expected = _written.Skip(from - 1).ToArray();
            foreach (TestNode node in Cluster.Nodes)
            {
                await Eventually.Until(() => node.Logs().Count >= expected.Length, $"node {node.Id} has {expected.Length} entries");
                IReadOnlyList<RaftLog> logs = node.Logs();
                Assert.Equal(expected.Length, logs.Count);
                for (int k = 0; k < expected.Length; k++)
                {
                    Assert.True(expected[k].Type == logs[k].Type, $"node {node.Id} entry {k}: type {logs[k].Type}");
                    Assert.Equal(expected[k].Data, logs[k].Data.ToArray());
                    Assert.Equal(expected[k].Index, logs[k].Index);
                }
            }
        }

        private async Task CloseWithPendingAsync(int count)
        {
            // Handles live before the nodes go: every node's must be released by its disposal.
            long before = SynodSafeHandle.LiveCount;
            RaftNode leader = Cluster.Node(_leader).Node;
            var pending = Enumerable.Range(0, count)
                .Select(i => leader.ReplicateLogsAsync(1, LogType.Of(1), Encoding.UTF8.GetBytes($"pending-{i}"))).ToArray();
            foreach (TestNode node in Cluster.Nodes)
            {
                await node.DisposeAsync();
            }
            foreach (ReplicationResult r in await Task.WhenAll(pending).WaitAsync(Eventually.DefaultTimeout))
            {
                Assert.Contains(r.Status, new[] { SynodStatus.Ok, SynodStatus.ShuttingDown });
            }
            Assert.Equal(before - Cluster.Nodes.Count, SynodSafeHandle.LiveCount);
        }

        public async ValueTask DisposeAsync()
        {
            if (_cluster is not null)
            {
                await _cluster.DisposeAsync();
                _cluster = null;
            }
        }
    }
}
