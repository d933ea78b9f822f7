using System.Text;

namespace Synod.Tests;

/// <summary>Losing the leader: a new one is elected, writes go on, no acknowledged write is lost.</summary>
public sealed class FailoverTests
{
    [Fact]
    public async Task IsolatedLeaderIsReplacedAndNoAcknowledgedWriteIsLost()
    {
        await using TestCluster cluster = TestCluster.Start();
        var acknowledged = new List<string>();
        async Task Write(string value, IEnumerable<TestNode>? among = null)
        {
            ReplicationResult result = await cluster.ReplicateAsync("kv", Encoding.UTF8.GetBytes(value), candidates: among);
            Assert.True(result.Success);
            acknowledged.Add(value);
        }

        for (int i = 0; i < 10; i++)
        {
            await Write($"before-{i}");
        }
        TestNode oldLeader = await cluster.LeaderAsync();
        TestNode[] rest = cluster.Nodes.Where(n => n != oldLeader).ToArray();

        cluster.Network.Isolate(oldLeader.Id);
        TestNode newLeader = await cluster.LeaderAsync(candidates: rest);
        Assert.NotEqual(oldLeader.Id, newLeader.Id);
        for (int i = 0; i < 10; i++)
        {
            await Write($"during-{i}", rest);
        }
        // Check-quorum: the cut-off leader steps down by itself.
        await Eventually.Until(() => !oldLeader.Node.AmILeaderAsync(1).Result, "the isolated leader steps down");

        cluster.Network.Heal();
        for (int i = 0; i < 5; i++)
        {
            await Write($"after-{i}");
        }

        foreach (TestNode node in cluster.Nodes)
        {
            await Eventually.Until(() => node.Logs().Count(l => l.Type == "kv") >= acknowledged.Count,
                $"node {node.Id} has all {acknowledged.Count} acknowledged writes");
            string[] applied = node.Logs().Where(l => l.Type == "kv").Select(l => Encoding.UTF8.GetString(l.Data.Span)).ToArray();
            // A retried write whose first attempt timed out may be there twice; every acknowledged
            // one must be there, in the order it was acknowledged.
            int[] positions = acknowledged.Select(a => Array.IndexOf(applied, a)).ToArray();
            Assert.DoesNotContain(-1, positions);
            Assert.Equal(positions.Order(), positions);
            long[] indexes = node.Logs().Select(l => l.Index).ToArray();
            Assert.Equal(indexes.Order(), indexes);
        }
    }
}
