using System.Collections.Concurrent;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Synod.Tests;

/// <summary>A node hosted by the Generic Host, logging through Microsoft.Extensions.Logging.</summary>
public sealed class HostingTests
{
    [Fact]
    public async Task AHostedNodeStartsWithTheHostAndStopsWithIt()
    {
        var logs = new CapturingLoggerProvider();
        using var network = new RaftNetwork();
        var received = new ConcurrentQueue<RaftLog>();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        builder.Logging.SetMinimumLevel(LogLevel.Debug);
        builder.Logging.AddProvider(logs);
        builder.Services.AddSynodRaftNode(c =>
        {
            c.NodeId = 1;
            c.Members.Add(1);
            c.Network = network;
            c.WorkerThreads = 1;
        }, (_, node) => node.OnReplicationReceived += (_, log) => received.Enqueue(log));

        RaftNode node;
        using (IHost host = builder.Build())
        {
            node = host.Services.GetRequiredService<RaftNode>();
            Assert.False(node.IsRunning);
            await host.StartAsync();
            Assert.True(node.IsRunning);
            Assert.Equal(1ul, await node.WaitForLeaderAsync(1, TimeSpan.FromSeconds(10)));
            Assert.True((await node.ReplicateLogsAsync(1, "hosted", new byte[] { 7 })).Success);
            await Eventually.Until(() => received.Any(l => l.Type == "hosted"), "the hosted node delivers its entry");
            await host.StopAsync();
            Assert.False(node.IsRunning);
        }
        // The binding's own messages (leader changes at debug level) go through ILogger<RaftNode>.
        Assert.Contains(logs.Messages, m => m.Category == typeof(RaftNode).FullName && m.Text.StartsWith("node 1:", StringComparison.Ordinal));
    }

    [Fact]
    public async Task SeveralKeyedNodesShareOneHost()
    {
        using var network = new RaftNetwork();
        HostApplicationBuilder builder = Host.CreateApplicationBuilder();
        builder.Logging.ClearProviders();
        for (ulong id = 1; id <= 3; id++)
        {
            ulong nodeId = id;
            builder.Services.AddKeyedSynodRaftNode(nodeId, _ => TestCluster.Configuration(nodeId, 3, network));
        }
        using IHost host = builder.Build();
        await host.StartAsync();
        RaftNode[] nodes = Enumerable.Range(1, 3).Select(i => host.Services.GetRequiredKeyedService<RaftNode>((ulong)i)).ToArray();
        Assert.All(nodes, n => Assert.True(n.IsRunning));
        ulong leader = await nodes[0].WaitForLeaderAsync(1, TimeSpan.FromSeconds(10));
        Assert.InRange(leader, 1ul, 3ul);
        await host.StopAsync();
        Assert.All(nodes, n => Assert.False(n.IsRunning));
    }
}
