using System.Text;
using Microsoft.Extensions.Logging;

namespace Synod.Tests;

/// <summary>Three nodes over gRPC or REST on loopback, each on a port the system picked, in
/// plain text or with a shared secret.</summary>
public sealed class NetworkTransportTests
{
    private static readonly byte[] Secret = Encoding.UTF8.GetBytes("a cluster secret of 32 bytes....");

    [Theory]
    [InlineData("grpc", false)]
    [InlineData("rest", false)]
    [InlineData("grpc", true)]
    [InlineData("rest", true)]
    public async Task ThreeNodesOnLoopbackPortsFoundAfterStart(string transport, bool signed)
    {
        var logs = new CapturingLoggerProvider();
        using var loggerFactory = LoggerFactory.Create(b => b.AddProvider(logs).SetMinimumLevel(LogLevel.Debug));
        var nodes = new List<TestNode>();
        try
        {
            for (ulong id = 1; id <= 3; id++)
            {
                RaftConfiguration configuration = TestCluster.Configuration(id, 3, network: null);
                if (transport == "grpc")
                {
                    configuration.GrpcListenAddress = "127.0.0.1:0";
                }
                else
                {
                    configuration.RestListenAddress = "127.0.0.1:0";
                }
                configuration.SharedSecret = signed ? Secret : null;
                var node = new TestNode(new RaftNode(configuration, loggerFactory.CreateLogger<RaftNode>()));
                node.Node.Start();
                nodes.Add(node);
            }
            foreach (TestNode node in nodes)
            {
                Assert.InRange(node.Node.ListenPort, 1, 65535);
                foreach (TestNode peer in nodes.Where(p => p != node))
                {
                    node.Node.SetPeerAddress(peer.Id, $"127.0.0.1:{peer.Node.ListenPort}");
                }
            }

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
            }, $"a {transport} node leads partition 1");
            for (int i = 0; i < 5; i++)
            {
                ReplicationResult result = await leader.Node.ReplicateLogsAsync(1, "grpc", Encoding.UTF8.GetBytes($"g{i}"));
                Assert.True(result.Success, $"entry {i}: {result.Status}");
            }
            foreach (TestNode node in nodes)
            {
                await Eventually.Until(() => node.Logs().Count == 5, $"node {node.Id} has the 5 entries");
                Assert.Equal(new[] { "g0", "g1", "g2", "g3", "g4" }, node.Logs().Select(l => Encoding.UTF8.GetString(l.Data.Span)));
            }
            Assert.True(leader.Node.GetStatus().Transport.ValueKind is System.Text.Json.JsonValueKind.Object or System.Text.Json.JsonValueKind.Undefined);
            // The engine's SYNOD_EVENT_LOG warning about plain text arrives as an ILogger warning.
            Assert.Equal(!signed, logs.Messages.Any(m => m.Level == LogLevel.Warning && m.Text.Contains("plain text", StringComparison.Ordinal)));
            // About the whole node: NodeId as a named value, and no Partition or Term.
            foreach (var m in logs.Structured.Where(m => m.Level == LogLevel.Warning
                         && Convert.ToString(m.Properties.GetValueOrDefault("Message"))!.Contains("plain text", StringComparison.Ordinal)))
            {
                Assert.True(m.Properties.ContainsKey("NodeId"));
                Assert.False(m.Properties.ContainsKey("Partition"));
                Assert.False(m.Properties.ContainsKey("Term"));
            }
        }
        finally
        {
            foreach (TestNode node in nodes)
            {
                await node.DisposeAsync();
            }
        }
    }

    [Fact]
    public void TransportAndSecurityChoicesAreExclusive()
    {
        RaftConfiguration both = TestCluster.Configuration(1, 1, network: null);
        both.GrpcListenAddress = "127.0.0.1:0";
        both.RestListenAddress = "127.0.0.1:0";
        Assert.Throws<ArgumentException>(() => new RaftNode(both));
        RaftConfiguration secured = TestCluster.Configuration(1, 1, network: null);
        secured.RestListenAddress = "127.0.0.1:0";
        secured.SharedSecret = Secret;
        secured.Tls = new TlsSettings("ca.pem", "cert.pem", "key.pem");
        Assert.Throws<ArgumentException>(() => new RaftNode(secured));
        RaftConfiguration shortSecret = TestCluster.Configuration(1, 1, network: null);
        shortSecret.SharedSecret = new byte[8];
        Assert.Throws<ArgumentException>(() => new RaftNode(shortSecret));
    }

    [Fact]
    public async Task ListenPortAndPeerAddressNeedANetworkTransport()
    {
        await using TestCluster cluster = TestCluster.Start(size: 1);
        RaftNode node = cluster.Nodes[0].Node;
        Assert.Throws<SynodException>(() => node.ListenPort);
        Assert.Throws<ArgumentException>(() => node.SetPeerAddress(2, ""));
    }
}
