using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Logging;

namespace Synod.Tests;

/// <summary>A host whose state is a map per partition, set by entries "key=value", saved as JSON
/// through the node's write stream and installed from its read stream.</summary>
internal sealed class MapHost : ISnapshotHandler
{
    private readonly object _lock = new();
    private readonly Dictionary<int, Dictionary<string, string>> _state = new();
    private readonly Dictionary<int, long> _applied = new();

    internal MapHost(RaftConfiguration configuration, ILogger<RaftNode>? logger = null)
    {
        Node = new RaftNode(configuration, logger) { SnapshotHandler = this };
        Node.OnReplicationReceived += (partition, log) =>
        {
            string[] kv = Encoding.UTF8.GetString(log.Data.Span).Split('=', 2);
            lock (_lock)
            {
                if (log.Index <= _applied.GetValueOrDefault(partition))
                {
                    Problems.Add($"entry {log.Index} after {_applied[partition]}");
                }
                State(partition)[kv[0]] = kv[1];
                _applied[partition] = log.Index;
                Order.Add(("entry", log.Index));
            }
            if (ReportApplied)
            {
                Node.ReportApplied(partition, log.Index);
            }
        };
    }

    internal RaftNode Node { get; }
    internal bool ReportApplied { get; init; }
    internal bool FailSaves { get; set; }
    internal Action? BeforeInstall { get; set; }
    internal List<SnapshotSaveRequest> Saves { get; } = new();
    internal List<SnapshotInstallRequest> Installs { get; } = new();
    internal List<Exception> InstallErrors { get; } = new();
    internal List<(string Kind, long Index)> Order { get; } = new();
    internal List<string> Problems { get; } = new();

    internal long Applied(int partition)
    {
        lock (_lock)
        {
            return _applied.GetValueOrDefault(partition);
        }
    }

    internal Dictionary<string, string> Snapshot(int partition)
    {
        lock (_lock)
        {
            return new Dictionary<string, string>(State(partition));
        }
    }

    private Dictionary<string, string> State(int partition) =>
        _state.TryGetValue(partition, out Dictionary<string, string>? s) ? s : _state[partition] = new();

    public async Task SaveAsync(SnapshotSaveRequest request, Stream destination, CancellationToken cancellationToken)
    {
        lock (_lock)
        {
            Saves.Add(request);
        }
        if (FailSaves)
        {
            await destination.WriteAsync(Encoding.UTF8.GetBytes("half a state"), cancellationToken);
            throw new InvalidOperationException("the host's disk is full");
        }
        Assert.True(destination.CanWrite);
        Assert.False(destination.CanRead || destination.CanSeek);
        // Through a small buffer, so that the snapshot spans many writes.
        await using var buffered = new BufferedStream(destination, 16);
        await JsonSerializer.SerializeAsync(buffered, Snapshot(request.PartitionId), cancellationToken: cancellationToken);
    }

    public async Task InstallAsync(SnapshotInstallRequest request, Stream source, CancellationToken cancellationToken)
    {
        BeforeInstall?.Invoke();
        Dictionary<string, string>? state;
        try
        {
            Assert.Equal(request.Length, source.Length);
            state = await JsonSerializer.DeserializeAsync<Dictionary<string, string>>(source, cancellationToken: cancellationToken);
        }
        catch (Exception ex)
        {
            lock (_lock)
            {
                InstallErrors.Add(ex);
            }
            throw;
        }
        lock (_lock)
        {
            Installs.Add(request);
            _state[request.PartitionId] = state!;
            _applied[request.PartitionId] = request.Index;
            Order.Add(("install", request.Index));
        }
    }
}

/// <summary>Host snapshots end to end: both models, a restart, a wiped follower, requests, failures.</summary>
public sealed class SnapshotTests
{
    private static RaftConfiguration Single(string? directory, Action<RaftConfiguration>? adjust = null)
    {
        RaftConfiguration c = TestCluster.Configuration(1, 1, null);
        if (directory is not null)
        {
            c.Storage = StorageEngine.RocksDb;
            c.DataDirectory = directory;
        }
        adjust?.Invoke(c);
        return c;
    }

    private static async Task<long> WriteAsync(RaftNode leader, int first, int count)
    {
        long last = 0;
        for (int i = first; i < first + count; i++)
        {
            ReplicationResult r = await leader.ReplicateLogsAsync(1, "set", Encoding.UTF8.GetBytes($"k{i % 5}={i}"));
            Assert.True(r.Success, r.Status.ToString());
            last = r.LogIndex;
        }
        return last;
    }

    // Requests a snapshot while writing entries (it is taken at an index the partition applies).
    private static async Task<long> RequestWhileWritingAsync(RaftNode node, int first)
    {
        Task<long> request = node.RequestSnapshotAsync(1);
        for (int i = first; !request.IsCompleted && i < first + 200; i++)
        {
            await WriteAsync(node, i, 1);
        }
        return await request.WaitAsync(Eventually.DefaultTimeout);
    }

    private sealed class TempDirectory : IDisposable
    {
        internal string Path { get; } = Directory.CreateTempSubdirectory("synod-dotnet-snapshots-").FullName;

        public void Dispose() => Directory.Delete(Path, recursive: true);
    }

    [Fact]
    public async Task SettingsAreChecked()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => new RaftNode(Single(null, c => c.SnapshotKeepEntries = -1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RaftNode(Single(null, c => c.StateMachine = (StateMachineModel)7)));
        ArgumentException periodic = Assert.Throws<ArgumentException>(() => new RaftNode(Single(null, c =>
        {
            c.StateMachine = StateMachineModel.Durable;
            c.SnapshotEveryEntries = 10;
        })));
        Assert.Contains("durable", periodic.Message);
        await using var node = new RaftNode(Single(null));
        node.Start();
        Assert.Throws<InvalidOperationException>(() => node.SnapshotHandler = null);
        SynodException unknown = await Assert.ThrowsAsync<SynodException>(() => node.RequestSnapshotAsync(99));
        Assert.Equal(SynodStatus.UnknownPartition, unknown.Status);
    }

    [Fact]
    public async Task RestartReinstallsItsOwnSnapshotThenLaterEntries()
    {
        using var dir = new TempDirectory();
        Action<RaftConfiguration> policy = c =>
        {
            c.SnapshotEveryEntries = 4;
            c.SnapshotKeepEntries = 1;
        };
        var first = new MapHost(Single(dir.Path, policy));
        long last;
        long savedAt;
        await using (first.Node)
        {
            first.Node.Start();
            await first.Node.WaitForLeaderAsync(1, Eventually.DefaultTimeout);
            last = await WriteAsync(first.Node, 0, 10);
            await Eventually.Until(() => first.Applied(1) >= last && first.Saves.Count > 0, "a save");
            Assert.Equal(SnapshotReason.Policy, first.Saves[0].Reason);
            // A policy save finished just before the close may not be recorded yet (the
            // restart then installs the one before it); a requested one is, once answered.
            savedAt = await first.Node.RequestSnapshotAsync(1).WaitAsync(Eventually.DefaultTimeout);
            last = await WriteAsync(first.Node, 10, 2); // fewer than the policy's 4: above the snapshot
            await Eventually.Until(() => first.Applied(1) >= last, "applied");
        }
        var second = new MapHost(Single(dir.Path, policy));
        await using (second.Node)
        {
            second.Node.Start();
            await Eventually.Until(() => second.Applied(1) >= last, "the restarted node caught up");
            Assert.Equal("install", second.Order[0].Kind);
            Assert.True(second.Order[0].Index >= savedAt);
            Assert.False(second.Installs[0].FromLeader);
            Assert.All(second.Order.Skip(1), o => Assert.True(o.Kind == "entry" && o.Index > second.Order[0].Index));
            Assert.Equal(first.Snapshot(1), second.Snapshot(1));
            Assert.Empty(second.Problems);
        }
    }

    [Fact]
    public async Task AFailedSaveFailsTheRequestAndIsNotKept()
    {
        using var dir = new TempDirectory();
        var host = new MapHost(Single(dir.Path)) { FailSaves = true };
        int entries;
        await using (host.Node)
        {
            host.Node.Start();
            await host.Node.WaitForLeaderAsync(1, Eventually.DefaultTimeout);
            await WriteAsync(host.Node, 0, 3);
            SynodException failed = await Assert.ThrowsAsync<SynodException>(() => RequestWhileWritingAsync(host.Node, 3));
            Assert.Equal(SynodStatus.Storage, failed.Status);
            Assert.Equal(SnapshotReason.Requested, host.Saves[0].Reason);
            entries = host.Order.Count;
            host.FailSaves = false;
            long index = await RequestWhileWritingAsync(host.Node, 100);
            Assert.Equal(host.Saves[^1].Index, index);
        }
        // The good snapshot is kept, the failed one is not: a restart installs the good one.
        var again = new MapHost(Single(dir.Path));
        await using (again.Node)
        {
            again.Node.Start();
            await Eventually.Until(() => again.Installs.Count == 1, "the kept snapshot installed");
            Assert.Equal(host.Saves[^1].Index, again.Installs[0].Index);
            Assert.True(entries > 0);
        }
    }

    [Fact]
    public async Task DataDamagedDuringTheInstallFailsTheReadAndHaltsThePartition()
    {
        using var dir = new TempDirectory();
        var host = new MapHost(Single(dir.Path));
        await using (host.Node)
        {
            host.Node.Start();
            await host.Node.WaitForLeaderAsync(1, Eventually.DefaultTimeout);
            for (int i = 0; i < 40; i++)
            {
                Assert.True((await host.Node.ReplicateLogsAsync(1, "set", Encoding.UTF8.GetBytes($"key-{i}={new string('v', 5000)}"))).Success);
            }
            await RequestWhileWritingAsync(host.Node, 0);
        }
        var logs = new CapturingLoggerProvider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var again = new MapHost(Single(dir.Path), factory.CreateLogger<RaftNode>())
        {
            // The node checked the file before handing it over; damaged now, it fails as it is read.
            BeforeInstall = () =>
            {
                foreach (string file in Directory.EnumerateFiles(Path.Combine(dir.Path, "snapshots"), "*", SearchOption.AllDirectories))
                {
                    if (new FileInfo(file).Length < 1024) continue;
                    // Shared: the node holds the file open, and a lock file in the directory.
                    using FileStream f = File.Open(file, FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite);
                    f.Position = f.Length / 2;
                    int b = f.ReadByte();
                    f.Position = f.Length / 2;
                    f.WriteByte((byte)(b ^ 0x5A));
                }
            },
        };
        await using (again.Node)
        {
            again.Node.Start();
            await Eventually.Until(() => again.InstallErrors.Count > 0, "the damaged install failed");
            IOException error = Assert.IsType<IOException>(again.InstallErrors[0]);
            Assert.Equal(SynodStatus.Storage, Assert.IsType<SynodException>(error.InnerException).Status);
            Assert.Empty(again.Installs);
            await Eventually.Until(() => again.Node.GetStatus().Partitions.Any(p => p.PartitionId == 1 && p.StorageError is not null),
                "partition 1 halted");
            ReplicationResult refused = await again.Node.ReplicateLogsAsync(1, "set", Encoding.UTF8.GetBytes("k=v"));
            Assert.Equal(SynodStatus.Storage, refused.Status);
            // The engine's log line reaches ILogger with node, partition and term as named values.
            IReadOnlyDictionary<string, object?>? Halted() => logs.Structured
                .Where(m => m.Level == LogLevel.Error
                            && Convert.ToString(m.Properties.GetValueOrDefault("Message"))!.Contains("partition 1 halted", StringComparison.Ordinal))
                .Select(m => m.Properties)
                .FirstOrDefault();
            await Eventually.Until(() => Halted() is not null, "the halt logged");
            IReadOnlyDictionary<string, object?> halted = Halted()!;
            Assert.Equal(1UL, halted["NodeId"]);
            Assert.Equal(1, halted["Partition"]);
            Assert.True(Assert.IsType<ulong>(halted["Term"]) >= 1);
            Assert.Equal("node {NodeId}: {Message}", halted["{OriginalFormat}"]);
        }
    }

    [Theory]
    [InlineData(StateMachineModel.InMemory)]
    [InlineData(StateMachineModel.Durable)]
    public async Task AWipedFollowerRejoinsFromTheLeadersSnapshot(StateMachineModel model)
    {
        var network = new RaftNetwork();
        RaftConfiguration Config(ulong id)
        {
            RaftConfiguration c = TestCluster.Configuration(id, 3, network);
            c.StateMachine = model;
            c.SnapshotEveryEntries = model == StateMachineModel.InMemory ? 5 : 0;
            c.SnapshotKeepEntries = 2;
            return c;
        }
        MapHost Start(ulong id)
        {
            var host = new MapHost(Config(id)) { ReportApplied = model == StateMachineModel.Durable };
            host.Node.Start();
            return host;
        }
        var hosts = new Dictionary<ulong, MapHost> { [1] = Start(1), [2] = Start(2), [3] = Start(3) };
        try
        {
            ulong leaderId = await hosts[1].Node.WaitForLeaderAsync(1, Eventually.DefaultTimeout);
            await Eventually.Until(() => hosts[leaderId].Node.AmILeaderAsync(1).Result, $"node {leaderId} leads");
            RaftNode leader = hosts[leaderId].Node;
            long last = await WriteAsync(leader, 0, 20);
            foreach (MapHost h in hosts.Values)
            {
                await Eventually.Until(() => h.Applied(1) >= last, $"node {h.Node.NodeId} applied");
            }
            ulong wiped = leaderId == 3 ? 2ul : 3ul;
            await hosts[wiped].Node.DisposeAsync();
            await WriteAsync(leader, 20, 12);
            hosts[wiped] = Start(wiped); // an empty memory store: everything was lost
            last = await WriteAsync(leader, 32, 3);
            MapHost rejoined = hosts[wiped];
            await Eventually.Until(() => rejoined.Applied(1) >= last, "the wiped node caught up");
            Assert.Equal(hosts[leaderId].Snapshot(1), rejoined.Snapshot(1));
            Assert.Equal("34", rejoined.Snapshot(1)["k4"]);
            Assert.Equal("install", rejoined.Order[0].Kind);
            Assert.True(rejoined.Installs[0].FromLeader);
            SnapshotReason expected = model == StateMachineModel.InMemory ? SnapshotReason.Policy : SnapshotReason.Export;
            Assert.Contains(hosts[leaderId].Saves, s => s.Reason == expected);
            Assert.All(hosts.Values, h => Assert.Empty(h.Problems));
        }
        finally
        {
            foreach (MapHost h in hosts.Values)
            {
                await h.Node.DisposeAsync();
            }
            network.Dispose();
        }
    }
}
