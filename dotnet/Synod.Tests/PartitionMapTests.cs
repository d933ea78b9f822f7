using System.Text;
using System.Text.Json;

namespace Synod.Tests;

/// <summary>The partition map on a three-node cluster: create and remove partitions at runtime,
/// read the map, route keys by the shared vectors (bindings/routing_vectors.json).</summary>
public sealed class PartitionMapTests
{
    private static string VectorsPath([System.Runtime.CompilerServices.CallerFilePath] string source = "") =>
        Path.GetFullPath(Path.Combine(Path.GetDirectoryName(source)!, "..", "..", "bindings", "routing_vectors.json"));

    [Fact]
    public async Task BootstrapMapAndRoutingFollowTheSharedVectors()
    {
        await using TestCluster cluster = TestCluster.Start(partitions: 3);
        TestNode leader = await cluster.LeaderAsync(0);
        PartitionMap map = leader.Node.GetPartitionMap();
        Assert.Equal(1ul, map.Version);
        Assert.Equal(4, map.NextId);

        using JsonDocument vectors = JsonDocument.Parse(File.ReadAllText(VectorsPath()));
        JsonElement root = vectors.RootElement;
        var ranges = root.GetProperty("bootstrap_ranges").GetProperty("3").EnumerateArray()
            .Select(r => (Convert.ToUInt64(r[0].GetString(), 16), Convert.ToUInt64(r[1].GetString(), 16))).ToArray();
        Assert.Equal(ranges.Select((r, i) => new PartitionMapEntry(i + 1, PartitionMapState.Active,
                PartitionRoutingMode.HashRange, r.Item1, r.Item2, 1, 0)),
            map.Partitions);

        foreach (TestNode node in cluster.Nodes)
        {
            foreach (JsonElement k in root.GetProperty("keys").EnumerateArray())
            {
                byte[] key = Convert.FromHexString(k.GetProperty("key_hex").GetString()!);
                var expected = new PartitionRoute(k.GetProperty("partition").GetProperty("3").GetInt32(), 1, PartitionMapState.Active);
                Assert.Equal(expected, node.Node.Route(key));
                Assert.Equal(expected, node.Node.RouteHash(Convert.ToUInt64(k.GetProperty("hash").GetString(), 16)));
                if (k.TryGetProperty("key_utf8", out JsonElement text))
                {
                    Assert.Equal(expected, node.Node.Route(text.GetString()!));
                }
            }
        }
        Assert.Equal(3, leader.Node.RouteHash(ulong.MaxValue)!.Value.PartitionId);
    }

    [Fact]
    public async Task CreatesAndRemovesAnUnroutedPartition()
    {
        await using TestCluster cluster = TestCluster.Start();
        TestNode leader = await cluster.LeaderAsync(0);
        ulong version = leader.Node.GetPartitionMap().Version;

        PartitionMapChange created = await leader.Node.CreatePartitionAsync(PartitionRoutingMode.Unrouted, expectedVersion: version);
        Assert.Equal(2, created.PartitionId);
        Assert.Equal(version + 1, created.MapVersion);
        Assert.True(created.Index > 0);
        foreach (TestNode node in cluster.Nodes)
        {
            await Eventually.Until(() => node.Node.GetPartitions().Contains(2) && node.Node.GetPartitionMap().Version == version + 1,
                $"node {node.Id} runs partition 2");
            Assert.Equal(new PartitionMapEntry(2, PartitionMapState.Active, PartitionRoutingMode.Unrouted, 0, 0, 1, 0),
                node.Node.GetPartitionMap().Find(2));
        }
        TestNode partitionLeader = await cluster.LeaderAsync(2);
        ReplicationResult written = await partitionLeader.Node.ReplicateLogsAsync(2, "Note", Encoding.UTF8.GetBytes("hello"));
        Assert.True(written.Success);

        var stale = await Assert.ThrowsAsync<PartitionMapException>(() => leader.Node.RemovePartitionAsync(2, expectedVersion: version));
        Assert.Equal(SynodStatus.StaleMapVersion, stale.Status);
        Assert.Equal("stale map version", stale.Reason);
        Assert.Equal(version + 1, stale.MapVersion);

        PartitionMapChange removed = await leader.Node.RemovePartitionAsync(2, expectedVersion: version + 1);
        Assert.Equal(2, removed.PartitionId);
        Assert.Equal(version + 2, removed.MapVersion);
        foreach (TestNode node in cluster.Nodes)
        {
            await Eventually.Until(() => !node.Node.GetPartitions().Contains(2), $"node {node.Id} stopped partition 2");
        }
        Assert.Equal(PartitionMapState.Removed, leader.Node.GetPartitionMap().Find(2)!.State);
        Assert.Equal(3, (await leader.Node.CreatePartitionAsync()).PartitionId);
    }

    [Fact]
    public async Task RefusalsRaiseTheirStatus()
    {
        await using TestCluster cluster = TestCluster.Start(partitions: 2);
        TestNode leader = await cluster.LeaderAsync(0);

        var overlap = await Assert.ThrowsAsync<PartitionMapException>(
            () => leader.Node.CreatePartitionAsync(PartitionRoutingMode.HashRange, 10, 20));
        Assert.Equal(SynodStatus.MapConflict, overlap.Status);
        Assert.Equal("overlapping ranges", overlap.Reason);
        var routed = await Assert.ThrowsAsync<PartitionMapException>(() => leader.Node.RemovePartitionAsync(1));
        Assert.Equal(SynodStatus.MapConflict, routed.Status);
        var unknown = await Assert.ThrowsAsync<PartitionMapException>(() => leader.Node.RemovePartitionAsync(99));
        Assert.Equal(SynodStatus.UnknownPartition, unknown.Status);
        var system = await Assert.ThrowsAsync<SynodException>(() => leader.Node.RemovePartitionAsync(0));
        Assert.Equal(SynodStatus.SystemPartition, system.Status);
        var bad = await Assert.ThrowsAsync<SynodException>(() => leader.Node.CreatePartitionAsync(PartitionRoutingMode.HashRange, 5, 4));
        Assert.Equal(SynodStatus.InvalidArgument, bad.Status);
        var mode = await Assert.ThrowsAsync<SynodException>(() => leader.Node.CreatePartitionAsync((PartitionRoutingMode)7));
        Assert.Equal(SynodStatus.InvalidArgument, mode.Status);

        TestNode follower = cluster.Nodes.First(n => n.Id != leader.Id);
        var notLeader = await Assert.ThrowsAsync<NotLeaderException>(() => follower.Node.CreatePartitionAsync());
        Assert.Equal(leader.Id, notLeader.LeaderHint);
        Assert.Equal(1ul, leader.Node.GetPartitionMap().Version);
    }
}
