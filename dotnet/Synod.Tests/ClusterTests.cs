using System.Text;

namespace Synod.Tests;

/// <summary>A three-node cluster in one process, over the in-process network.</summary>
public sealed class ClusterTests
{
    [Fact]
    public async Task ElectsOneLeaderAndDeliversEveryEntryToEveryNodeInOrder()
    {
        await using TestCluster cluster = TestCluster.Start();
        TestNode leader = await cluster.LeaderAsync();
        Assert.Single(cluster.Nodes, n => n.Node.AmILeaderAsync(1).Result);

        var written = new List<(string Type, string Data, long Index)>();
        long previous = 0;
        for (int i = 0; i < 20; i++)
        {
            string type = i % 2 == 0 ? "OrderPlaced" : "Заказ-отменён";
            string data = $"entry {i}";
            ReplicationResult result = await leader.Node.ReplicateLogsAsync(1, type, Encoding.UTF8.GetBytes(data));
            Assert.Equal(SynodStatus.Ok, result.Status);
            Assert.True(result.Success);
            Assert.True(result.LogIndex > previous, "indexes increase");
            Assert.True(result.Term > 0);
            previous = result.LogIndex;
            written.Add((type, data, result.LogIndex));
        }

        foreach (TestNode node in cluster.Nodes)
        {
            await Eventually.Until(() => node.Logs().Count >= written.Count, $"node {node.Id} has every entry");
            IReadOnlyList<RaftLog> logs = node.Logs();
            Assert.Equal(written.Select(w => (w.Type, w.Data, w.Index)),
                logs.Select(l => (l.Type.Name, Encoding.UTF8.GetString(l.Data.Span), l.Index)));
            Assert.All(logs, l => Assert.Equal(LogTypeCodec.StringFlag | LogTypeCodec.Hash(Encoding.UTF8.GetBytes(l.Type.Name)), l.EntryType));
        }
    }

    [Fact]
    public async Task ATinyEventBoundPushesBackWithoutLosingAnEntry()
    {
        // Two pending events at most: the engine pauses delivery and resumes it all the time.
        await using TestCluster cluster = TestCluster.Start(adjust: c => c.MaxPendingEvents = 2);
        TestNode leader = await cluster.LeaderAsync();
        int written = 0;
        for (int i = 0; i < 50; i++)
        {
            ReplicationResult result = await leader.Node.ReplicateLogsAsync(1, "t", Encoding.UTF8.GetBytes($"e{i}"));
            if (result.Status == SynodStatus.QueueFull) continue;
            Assert.Equal(SynodStatus.Ok, result.Status);
            written++;
        }
        Assert.True(written > 0);
        foreach (TestNode node in cluster.Nodes)
        {
            await Eventually.Until(() => node.Logs().Count >= written, $"node {node.Id} has every entry");
        }
    }

    [Fact]
    public async Task FollowerRefusesWithNotLeaderAndNamesTheLeader()
    {
        await using TestCluster cluster = TestCluster.Start();
        TestNode leader = await cluster.LeaderAsync();
        TestNode follower = cluster.Nodes.First(n => n != leader);

        ReplicationResult result = await follower.Node.ReplicateLogsAsync(1, "t", new byte[] { 1 });
        Assert.Equal(SynodStatus.NotLeader, result.Status);
        Assert.False(result.Success);
        Assert.Equal(leader.Id, result.LeaderHint);
        Assert.False(await follower.Node.AmILeaderAsync(1));
        Assert.Equal(leader.Id, await follower.Node.WaitForLeaderAsync(1, TimeSpan.FromSeconds(5)));
    }

    [Fact]
    public async Task ReadIndexCoversEveryAcknowledgedWriteOnTheLeader()
    {
        await using TestCluster cluster = TestCluster.Start();
        TestNode leader = await cluster.LeaderAsync();
        ReplicationResult last = default;
        for (int i = 0; i < 5; i++)
        {
            last = await leader.Node.ReplicateLogsAsync(1, "w", BitConverter.GetBytes(i));
            Assert.True(last.Success);
        }

        long index = await leader.Node.ReadIndexAsync(1);
        Assert.True(index >= last.LogIndex, $"read index {index} covers {last.LogIndex}");
        // The binding completes the read only after the entries through it were handed to handlers.
        Assert.Contains(leader.Logs(), l => l.Index == last.LogIndex);
    }

    [Fact]
    public async Task LeadershipTransferMovesTheLeaderAndRaisesOnLeaderChanged()
    {
        await using TestCluster cluster = TestCluster.Start();
        TestNode leader = await cluster.LeaderAsync();
        TestNode target = cluster.Nodes.First(n => n != leader);
        var seen = new TaskCompletionSource<(ulong Leader, string? Thread)>(TaskCreationOptions.RunContinuationsAsynchronously);
        target.Node.OnLeaderChanged += (partition, newLeader) =>
        {
            if (partition == 1 && newLeader == target.Id)
            {
                seen.TrySetResult((newLeader, Thread.CurrentThread.Name));
            }
        };

        Assert.True(await leader.Node.TransferLeadershipAsync(1, target.Id));
        Assert.Same(target, await cluster.LeaderAsync());
        (ulong raised, string? thread) = await seen.Task.WaitAsync(TimeSpan.FromSeconds(10));
        Assert.Equal(target.Id, raised);
        Assert.Equal($"synod-events-{target.Id}", thread);

        await Assert.ThrowsAsync<NotLeaderException>(() => leader.Node.TransferLeadershipAsync(1, leader.Id));
    }

    [Fact]
    public async Task EveryPartitionElectsALeaderAndStatusReportsIt()
    {
        await using TestCluster cluster = TestCluster.Start(partitions: 3);
        Assert.Equal(new[] { 0, 1, 2, 3 }, cluster.Nodes[0].Node.GetPartitions());
        for (int partition = 1; partition <= 3; partition++)
        {
            TestNode leader = await cluster.LeaderAsync(partition);
            ReplicationResult result = await leader.Node.ReplicateLogsAsync(partition, "p", new byte[] { (byte)partition });
            Assert.True(result.Success, $"partition {partition}: {result.Status}");

            RaftNodeStatus status = leader.Node.GetStatus();
            Assert.Equal(leader.Id, status.NodeId);
            PartitionStatus? p = status.Partition(partition);
            Assert.NotNull(p);
            Assert.True(p.IsLeader, $"role {p.Role}");
            Assert.Equal(leader.Id, p.Leader);
            Assert.True(p.LastIndex >= result.LogIndex, $"last index {p.LastIndex}");
            // The engine reports the persisted commit index, which may trail the acknowledgement briefly.
            await Eventually.Until(() => leader.Node.GetStatus().Partition(partition)!.Commit >= result.LogIndex,
                $"partition {partition}'s status shows commit {result.LogIndex}");
        }
        foreach (TestNode node in cluster.Nodes)
        {
            await Eventually.Until(() => Enumerable.Range(1, 3).All(p => node.Logs(p).Count == 1), $"node {node.Id} has one entry per partition");
            Assert.Equal(new byte[] { 2 }, node.Logs(2)[0].Data.ToArray());
        }
    }
}
