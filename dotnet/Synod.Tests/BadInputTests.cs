namespace Synod.Tests;

/// <summary>Bad arguments, unknown partitions, oversized payloads, and use outside the node's lifetime.</summary>
public sealed class BadInputTests
{
    [Fact]
    public void ConfigurationErrorsAreRefusedBeforeAnythingStarts()
    {
        Assert.Throws<ArgumentNullException>(() => new RaftNode(null!));
        Assert.Throws<ArgumentException>(() => new RaftNode(new RaftConfiguration { Members = { 1 } }));
        using var network = new RaftNetwork();
        Assert.Throws<ArgumentException>(() => new RaftNode(new RaftConfiguration
        {
            NodeId = 1, Members = { 1 }, Network = network, GrpcListenAddress = "127.0.0.1:0",
        }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RaftNode(new RaftConfiguration { NodeId = 1, UserPartitions = 0 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RaftNode(new RaftConfiguration { NodeId = 1, TickInterval = TimeSpan.FromTicks(5) }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RaftNode(new RaftConfiguration { NodeId = 1, MaxPayloadBytes = RaftConfiguration.MaxPayloadLimit + 1 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => new RaftNode(new RaftConfiguration { NodeId = 1, MaxPendingEvents = 1 }));
        Assert.Throws<ArgumentException>(() => new RaftNode(new RaftConfiguration { NodeId = 1, Storage = StorageEngine.RocksDb }));
    }

    [Fact]
    public async Task TheEngineRefusesAConfigurationThatCannotMakeANode()
    {
        using var network = new RaftNetwork();
        // Election timeout not above the heartbeat: the engine checks the pair when it makes the node.
        await using var node = new RaftNode(new RaftConfiguration { NodeId = 1, Members = { 1 }, Network = network, ElectionTicks = 2, HeartbeatTicks = 2 });
        SynodException ticks = Assert.Throws<SynodException>(node.Start);
        Assert.Equal(SynodStatus.Config, ticks.Status);
        Assert.Contains("election ticks", ticks.Message);

        await using var stranger = new RaftNode(new RaftConfiguration { NodeId = 9, Members = { 1, 2, 3 }, Network = network });
        SynodException notMember = Assert.Throws<SynodException>(stranger.Start);
        Assert.Equal(SynodStatus.Config, notMember.Status);
        Assert.NotEmpty(notMember.Message);
        Assert.False(stranger.IsRunning);
        Assert.Throws<InvalidOperationException>(stranger.Start);
    }

    [Fact]
    public async Task BadRequestArgumentsThrowAndEngineRefusalsAreStatuses()
    {
        await using TestCluster cluster = TestCluster.Start(size: 1, adjust: c => c.MaxPayloadBytes = 1000);
        RaftNode node = (await cluster.LeaderAsync()).Node;

        await Assert.ThrowsAsync<ArgumentNullException>(() => node.ReplicateLogsAsync(1, null!, new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => node.ReplicateLogsAsync(1, "", new byte[1]));
        await Assert.ThrowsAsync<ArgumentException>(() => node.ReplicateLogsAsync(1, new string('x', 256), new byte[1]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => node.ReplicateLogsAsync(-1, "t", new byte[1]));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => node.ReadIndexAsync(-1));
        await Assert.ThrowsAsync<ArgumentOutOfRangeException>(() => node.AmILeaderAsync(-1));

        Assert.Equal(SynodStatus.UnknownPartition, (await node.ReplicateLogsAsync(7, "t", new byte[1])).Status);
        SynodException unknown = await Assert.ThrowsAsync<SynodException>(() => node.ReadIndexAsync(7));
        Assert.Equal(SynodStatus.UnknownPartition, unknown.Status);
        Assert.Equal(SynodStatus.UnknownPartition, Assert.Throws<SynodException>(() => node.GetLeader(7)).Status);
        Assert.Equal(SynodStatus.UnknownPartition, (await Assert.ThrowsAsync<SynodException>(() => node.AmILeaderAsync(7))).Status);
        Assert.Equal(SynodStatus.UnknownPartition,
            (await Assert.ThrowsAsync<SynodException>(() => node.WaitForLeaderAsync(7, TimeSpan.FromSeconds(1)))).Status);

        Assert.Equal(SynodStatus.PayloadTooLarge, (await node.ReplicateLogsAsync(1, "t", new byte[1001])).Status);
        // The limit is the user's data; the type travels beside it.
        ReplicationResult atLimit = await node.ReplicateLogsAsync(1, new string('t', 255), new byte[1000]);
        Assert.True(atLimit.Success, atLimit.Status.ToString());
        ReplicationResult empty = await node.ReplicateLogsAsync(1, "empty", ReadOnlyMemory<byte>.Empty);
        Assert.True(empty.Success, empty.Status.ToString());
        await Eventually.Until(() => cluster.Nodes[0].Logs().Any(l => l.Type == "empty"), "the empty entry is delivered");
        RaftLog emptyLog = cluster.Nodes[0].Logs().Single(l => l.Type == "empty");
        Assert.True(emptyLog.Data.IsEmpty);

        node.ReportApplied(1, empty.LogIndex);
        Assert.Equal(SynodStatus.InvalidArgument, Assert.Throws<SynodException>(() => node.ReportApplied(1, empty.LogIndex + 1000)).Status);
    }

    [Fact]
    public async Task WithoutAQuorumWritesAreRefusedNotLost()
    {
        using var network = new RaftNetwork();
        await using var alone = new RaftNode(TestCluster.Configuration(1, 3, network));
        alone.Start();
        ReplicationResult result = await alone.ReplicateLogsAsync(1, "t", new byte[1]);
        Assert.Contains(result.Status, new[] { SynodStatus.NoLeader, SynodStatus.NotLeader });
        Assert.Equal(0ul, result.LeaderHint);
        Assert.Equal(0ul, alone.GetLeader(1));
    }

    [Fact]
    public async Task UseBeforeStartAndAfterDisposeThrowsAndDisposeIsIdempotent()
    {
        using var network = new RaftNetwork();
        var node = new RaftNode(TestCluster.Configuration(1, 1, network));
        await Assert.ThrowsAsync<InvalidOperationException>(() => node.ReplicateLogsAsync(1, "t", new byte[1]));
        Assert.Throws<InvalidOperationException>(() => node.GetStatus());

        node.Start();
        Assert.Throws<InvalidOperationException>(node.Start);
        await node.DisposeAsync();
        await node.DisposeAsync();
        Assert.False(node.IsRunning);

        await Assert.ThrowsAsync<ObjectDisposedException>(() => node.ReplicateLogsAsync(1, "t", new byte[1]));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => node.ReadIndexAsync(1));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => node.AmILeaderAsync(1));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => node.WaitForLeaderAsync(1, TimeSpan.FromSeconds(1)));
        await Assert.ThrowsAsync<ObjectDisposedException>(() => node.TransferLeadershipAsync(1, 2));
        Assert.Throws<ObjectDisposedException>(() => node.GetStatus());
        Assert.Throws<ObjectDisposedException>(() => node.GetLeader(1));
        Assert.Throws<ObjectDisposedException>(() => node.ReportApplied(1, 1));
        Assert.Throws<ObjectDisposedException>(() => node.ListenPort);
        Assert.Throws<ObjectDisposedException>(() => node.SetPeerAddress(2, "127.0.0.1:1"));
        Assert.Throws<ObjectDisposedException>(node.Start);

        // Never started: dispose releases the prepared configuration.
        var unstarted = new RaftNode(TestCluster.Configuration(2, 1, network));
        await unstarted.DisposeAsync();
        await unstarted.DisposeAsync();

        network.Dispose();
        network.Dispose();
        Assert.Throws<ObjectDisposedException>(() => network.Isolate(1));
        Assert.Throws<ObjectDisposedException>(() => new RaftNode(TestCluster.Configuration(3, 1, network)));
    }
}
