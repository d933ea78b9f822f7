using System.Collections.Concurrent;

namespace Synod.Tests;

/// <summary>Waits for conditions with a bound, instead of sleeping for a guessed time.</summary>
internal static class Eventually
{
    internal static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(20);

    internal static async Task Until(Func<bool> condition, string what, TimeSpan? timeout = null)
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (!condition())
        {
            try
            {
                await Task.Delay(10, cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"timed out waiting until {what}");
            }
        }
    }

    internal static async Task<T> Until<T>(Func<Task<T?>> attempt, string what, TimeSpan? timeout = null) where T : class
    {
        using var cts = new CancellationTokenSource(timeout ?? DefaultTimeout);
        while (true)
        {
            T? value = await attempt();
            if (value is not null)
            {
                return value;
            }
            try
            {
                await Task.Delay(10, cts.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"timed out waiting until {what}");
            }
        }
    }
}

/// <summary>A node under test with every entry it delivered, in order.</summary>
internal sealed class TestNode : IAsyncDisposable
{
    private readonly List<(int Partition, RaftLog Log)> _logs = new();

    internal TestNode(RaftNode node)
    {
        Node = node;
        node.OnReplicationReceived += (partition, log) =>
        {
            lock (_logs)
            {
                _logs.Add((partition, log));
            }
        };
    }

    internal RaftNode Node { get; }

    internal ulong Id => Node.NodeId;

    internal IReadOnlyList<RaftLog> Logs(int partition = 1)
    {
        lock (_logs)
        {
            return _logs.Where(l => l.Partition == partition).Select(l => l.Log).ToArray();
        }
    }

    public ValueTask DisposeAsync() => Node.DisposeAsync();
}

/// <summary>Nodes 1..N of one cluster over one in-process network.</summary>
internal sealed class TestCluster : IAsyncDisposable
{
    private readonly List<RaftConfiguration> _configurations;
    private List<TestNode> _nodes;

    private TestCluster(RaftNetwork network, List<RaftConfiguration> configurations)
    {
        Network = network;
        _configurations = configurations;
        _nodes = StartNodes(configurations);
    }

    internal RaftNetwork Network { get; }

    internal IReadOnlyList<TestNode> Nodes => _nodes;

    private static List<TestNode> StartNodes(IEnumerable<RaftConfiguration> configurations)
    {
        var nodes = new List<TestNode>();
        foreach (RaftConfiguration configuration in configurations)
        {
            var node = new TestNode(new RaftNode(configuration));
            node.Node.Start();
            nodes.Add(node);
        }
        return nodes;
    }

    /// <summary>Disposes every node and starts it again from its configuration (and data
    /// directory); what the nodes delivered before is forgotten.</summary>
    internal async Task RestartAsync()
    {
        foreach (TestNode node in _nodes)
        {
            await node.DisposeAsync();
        }
        _nodes = StartNodes(_configurations);
    }

    internal static RaftConfiguration Configuration(ulong id, int size, RaftNetwork? network, int partitions = 1) => new()
    {
        NodeId = id,
        Members = Enumerable.Range(1, size).Select(i => (ulong)i).ToList(),
        UserPartitions = partitions,
        Network = network,
        WorkerThreads = 1,
        RequestTimeout = TimeSpan.FromSeconds(5),
    };

    internal static TestCluster Start(int size = 3, int partitions = 1, Action<RaftConfiguration>? adjust = null)
    {
        var network = new RaftNetwork();
        var configurations = new List<RaftConfiguration>();
        for (int i = 1; i <= size; i++)
        {
            RaftConfiguration configuration = Configuration((ulong)i, size, network, partitions);
            adjust?.Invoke(configuration);
            configurations.Add(configuration);
        }
        return new TestCluster(network, configurations);
    }

    internal TestNode Node(ulong id) => Nodes.Single(n => n.Id == id);

    /// <summary>The node that leads <paramref name="partition"/> among <paramref name="candidates"/>,
    /// once one of them says so and all of them agree.</summary>
    internal async Task<TestNode> LeaderAsync(int partition = 1, IEnumerable<TestNode>? candidates = null)
    {
        TestNode[] among = (candidates ?? Nodes).ToArray();
        return await Eventually.Until(async () =>
        {
            foreach (TestNode n in among)
            {
                if (await n.Node.AmILeaderAsync(partition) && among.All(o => o.Node.GetLeader(partition) == n.Id))
                {
                    return n;
                }
            }
            return null;
        }, $"one of nodes {string.Join(",", among.Select(n => n.Id))} leads partition {partition}");
    }

    /// <summary>Replicates through whichever node leads, retrying while leadership moves.</summary>
    internal async Task<ReplicationResult> ReplicateAsync(string type, byte[] data, int partition = 1, IEnumerable<TestNode>? candidates = null)
    {
        TestNode[] among = (candidates ?? Nodes).ToArray();
        ReplicationResult last = default;
        using var cts = new CancellationTokenSource(Eventually.DefaultTimeout);
        while (!cts.IsCancellationRequested)
        {
            TestNode leader = await LeaderAsync(partition, among);
            last = await leader.Node.ReplicateLogsAsync(partition, type, data);
            if (last.Success)
            {
                return last;
            }
            Assert.Contains(last.Status, new[] { SynodStatus.NotLeader, SynodStatus.NoLeader, SynodStatus.Dropped, SynodStatus.Timeout });
        }
        Assert.Fail($"could not replicate: last status {last.Status}");
        return last;
    }

    public async ValueTask DisposeAsync()
    {
        foreach (TestNode node in Nodes)
        {
            await node.DisposeAsync();
        }
        Network.Dispose();
    }
}
