using System.Diagnostics;
using Synod.Interop;
using Xunit.Abstractions;

namespace Synod.Tests;

/// <summary>Creating and disposing nodes releases every handle, thread and byte.</summary>
public sealed class LifetimeTests(ITestOutputHelper output)
{
    private static async Task CreateAndDispose(int count)
    {
        for (int i = 0; i < count; i++)
        {
            using var network = new RaftNetwork();
            RaftConfiguration configuration = TestCluster.Configuration(1, 1, network);
            // A short election timeout: this test is about lifetimes, not elections.
            configuration.ElectionTicks = 3;
            await using var node = new RaftNode(configuration);
            node.OnReplicationReceived += (_, _) => { };
            node.Start();
            // Exercise the request path too, so pending state and payload copies are covered.
            await node.WaitForLeaderAsync(1, TimeSpan.FromSeconds(10));
            Assert.True((await node.ReplicateLogsAsync(1, "leak", new byte[512])).Success);
        }
    }

    private static (long Handles, int Threads, int Files, long Rss) Measure()
    {
        GC.Collect();
        GC.WaitForPendingFinalizers();
        GC.Collect();
        using Process self = Process.GetCurrentProcess();
        self.Refresh();
        return (SynodSafeHandle.LiveCount, self.Threads.Count, Directory.GetFiles("/proc/self/fd").Length, self.WorkingSet64);
    }

    [Fact]
    public async Task CreatingAndDisposingManyNodesLeaksNothing()
    {
        // Warm up: the first nodes load the library and grow the runtime's pools.
        await CreateAndDispose(20);
        var before = Measure();
        await CreateAndDispose(150);
        var after = Measure();

        output.WriteLine($"before: {before}; after 150 more nodes: {after}");
        Assert.Equal(before.Handles, after.Handles);
        Assert.InRange(after.Threads, 0, before.Threads + 8);
        Assert.InRange(after.Files, 0, before.Files + 8);
        long growth = after.Rss - before.Rss;
        Assert.True(growth < 64L * 1024 * 1024, $"resident memory grew by {growth / 1024} KiB over 150 nodes");
    }

    [Fact]
    public async Task DisposeCompletesPendingRequestsWithShuttingDown()
    {
        TestCluster cluster = TestCluster.Start(adjust: c => c.ElectionTicks = 100);
        TestNode leader = await cluster.LeaderAsync();
        cluster.Network.Isolate(leader.Id);
        Task<ReplicationResult> pending = leader.Node.ReplicateLogsAsync(1, "t", new byte[1]);
        Task<long> read = leader.Node.ReadIndexAsync(1);
        Task<ulong> wait = cluster.Nodes.First(n => n != leader).Node.WaitForLeaderAsync(1, TimeSpan.FromSeconds(30));

        await cluster.DisposeAsync();

        ReplicationResult result = await pending.WaitAsync(TimeSpan.FromSeconds(10));
        // Refused at once if leadership had already gone; otherwise abandoned by the stop.
        Assert.Contains(result.Status, new[] { SynodStatus.ShuttingDown, SynodStatus.NotLeader, SynodStatus.NoLeader });
        Exception? readFailure = await Record.ExceptionAsync(() => read.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.IsAssignableFrom<SynodException>(readFailure);
        // The follower either already knew the leader or was told the node stopped.
        Exception? waitFailure = await Record.ExceptionAsync(() => wait.WaitAsync(TimeSpan.FromSeconds(10)));
        Assert.True(waitFailure is null || waitFailure is SynodException { Status: SynodStatus.ShuttingDown }, waitFailure?.ToString());
    }

    [Fact]
    public async Task AHandlerMayDisposeItsOwnNode()
    {
        using var network = new RaftNetwork();
        var node = new RaftNode(TestCluster.Configuration(1, 1, network));
        var disposed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        node.OnReplicationReceived += (_, log) =>
        {
            if (log.Type == "stop")
            {
                node.DisposeAsync().AsTask().ContinueWith(_ => disposed.TrySetResult(), TaskScheduler.Default);
            }
        };
        node.Start();
        await node.WaitForLeaderAsync(1, TimeSpan.FromSeconds(10));
        Assert.True((await node.ReplicateLogsAsync(1, "stop", new byte[1])).Success);
        await disposed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.False(node.IsRunning);
    }

    [Fact]
    public async Task AHandlerMayDisposeItsOwnNodeAndWaitForIt()
    {
        using var network = new RaftNetwork();
        var node = new RaftNode(TestCluster.Configuration(1, 1, network));
        var waited = new TaskCompletionSource<bool>(TaskCreationOptions.RunContinuationsAsynchronously);
        node.OnReplicationReceived += (_, log) =>
        {
            if (log.Type == "stop")
            {
                // Blocking here must not deadlock: dispose does not wait for this thread.
                waited.TrySetResult(node.DisposeAsync().AsTask().Wait(TimeSpan.FromSeconds(10)));
            }
        };
        node.Start();
        await node.WaitForLeaderAsync(1, TimeSpan.FromSeconds(10));
        Assert.True((await node.ReplicateLogsAsync(1, "stop", new byte[1])).Success);
        Assert.True(await waited.Task.WaitAsync(TimeSpan.FromSeconds(20)));
        Assert.False(node.IsRunning);
    }

    [Fact]
    public async Task TheNetworkMayBeDisposedBeforeItsNodes()
    {
        var network = new RaftNetwork();
        RaftConfiguration[] configurations = Enumerable.Range(1, 3).Select(i => TestCluster.Configuration((ulong)i, 3, network)).ToArray();
        var nodes = configurations.Select(c => new TestNode(new RaftNode(c))).ToList();
        network.Dispose();
        nodes.ForEach(n => n.Node.Start());
        await using var cluster = new DisposableNodes(nodes);
        TestNode leader = await Eventually.Until(async () =>
        {
            foreach (TestNode n in nodes)
            {
                if (await n.Node.AmILeaderAsync(1))
                {
                    return n;
                }
            }
            return null;
        }, "a leader is elected");
        Assert.True((await leader.Node.ReplicateLogsAsync(1, "t", new byte[] { 42 })).Success);
    }

    private sealed class DisposableNodes(IEnumerable<TestNode> nodes) : IAsyncDisposable
    {
        public async ValueTask DisposeAsync()
        {
            foreach (TestNode node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }
}
