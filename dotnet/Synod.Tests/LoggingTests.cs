using System.Globalization;
using Microsoft.Extensions.Logging;

namespace Synod.Tests;

/// <summary>What the engine and the binding log reaches ILogger with its context as named values.</summary>
public sealed class LoggingTests
{
    [Fact]
    public async Task LeaderChangesReachILoggerWithNodePartitionAndTerm()
    {
        var logs = new CapturingLoggerProvider();
        using ILoggerFactory factory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        using var network = new RaftNetwork();
        var nodes = Enumerable.Range(1, 3)
            .Select(i => new RaftNode(TestCluster.Configuration((ulong)i, 3, network), factory.CreateLogger<RaftNode>()))
            .ToList();
        try
        {
            nodes.ForEach(n => n.Start());
            ulong leader = 0;
            await Eventually.Until(() =>
            {
                leader = nodes[0].GetLeader(1);
                return leader != 0 && nodes.All(n => n.GetLeader(1) == leader);
            }, "the nodes agree on a leader");
            long term = nodes.Single(n => n.NodeId == leader).GetStatus().Partition(1)!.Term;
            string Text(object? v) => Convert.ToString(v, CultureInfo.InvariantCulture) ?? "";
            await Eventually.Until(() => logs.Structured
                .Where(m => m.Level == LogLevel.Debug && m.Properties.TryGetValue("Partition", out object? p) && Text(p) == "1"
                            && Text(m.Properties.GetValueOrDefault("Leader")) == Text(leader)
                            && Text(m.Properties.GetValueOrDefault("Term")) == Text(term))
                .Select(m => Text(m.Properties.GetValueOrDefault("NodeId")))
                .ToHashSet().SetEquals(new[] { "1", "2", "3" }), "every node logged the leader with its term");
        }
        finally
        {
            foreach (RaftNode n in nodes)
            {
                await n.DisposeAsync();
            }
        }
    }
}
