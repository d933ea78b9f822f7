namespace Synod.Tests;

/// <summary>A cancelled token completes the task as cancelled, whatever the engine does later.</summary>
public sealed class CancellationTests
{
    [Fact]
    public async Task AnAlreadyCancelledTokenCancelsAtOnce()
    {
        await using TestCluster cluster = TestCluster.Start(size: 1);
        RaftNode node = (await cluster.LeaderAsync()).Node;
        var cancelled = new CancellationToken(canceled: true);

        Task<ReplicationResult> replicate = node.ReplicateLogsAsync(1, "t", new byte[1], cancelled);
        Assert.True(replicate.IsCanceled);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.ReadIndexAsync(1, cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.AmILeaderAsync(1, cancelled));
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => node.WaitForLeaderAsync(1, TimeSpan.FromSeconds(1), cancelled));
        Assert.Empty(cluster.Nodes[0].Logs());
    }

    [Fact]
    public async Task CancellingAPendingRequestCompletesItAsCancelled()
    {
        // A long election timeout keeps the isolated leader leading, so the proposals stay pending.
        await using TestCluster cluster = TestCluster.Start(adjust: c =>
        {
            c.ElectionTicks = 200;
            c.RequestTimeout = TimeSpan.FromSeconds(30);
        });
        TestNode leader = await cluster.LeaderAsync();
        cluster.Network.Isolate(leader.Id);

        using var cts = new CancellationTokenSource();
        Task<ReplicationResult> replicate = leader.Node.ReplicateLogsAsync(1, "t", new byte[1], cts.Token);
        Task<long> read = leader.Node.ReadIndexAsync(1, cts.Token);
        Assert.False(replicate.IsCompleted, $"the proposal is pending, not {replicate.Status}");
        var clock = System.Diagnostics.Stopwatch.StartNew();
        cts.Cancel();

        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => replicate);
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => read);
        Assert.True(replicate.IsCanceled);
        Assert.True(read.IsCanceled);
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(5), "cancelled without waiting for the engine");

        // The node goes on working once healed; the abandoned results are dropped quietly.
        cluster.Network.Heal();
        ReplicationResult after = await cluster.ReplicateAsync("t", new byte[2]);
        Assert.True(after.Success);
    }

    [Fact]
    public async Task WaitingForALeaderEndsByCancellationOrTimeout()
    {
        using var network = new RaftNetwork();
        // Alone among three members: no leader can ever be elected.
        await using var alone = new RaftNode(TestCluster.Configuration(1, 3, network));
        alone.Start();

        using var cts = new CancellationTokenSource();
        Task<ulong> wait = alone.WaitForLeaderAsync(1, TimeSpan.FromMinutes(1), cts.Token);
        Assert.False(wait.IsCompleted);
        cts.Cancel();
        await Assert.ThrowsAnyAsync<OperationCanceledException>(() => wait);
        Assert.True(wait.IsCanceled);

        await Assert.ThrowsAsync<TimeoutException>(() => alone.WaitForLeaderAsync(1, TimeSpan.FromMilliseconds(300)));
    }
}
