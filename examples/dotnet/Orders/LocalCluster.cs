using System.Net.Http.Json;
using System.Security.Cryptography;

namespace Orders;

/// <summary>
/// A cluster of <c>Orders node</c> processes on this machine, one per node, each with its own
/// data directory under one root, listening on loopback ports the OS picks. Once they serve,
/// each is told the others' addresses (<c>PUT /peers/{id}</c>), as a deployment's discovery
/// would. The nodes sign their Raft traffic with a secret made for the cluster. Disposing stops every process still running (and kills those that do not stop).
/// </summary>
public sealed class LocalCluster : IAsyncDisposable
{
    private readonly Dictionary<ulong, NodeProcess> _nodes = new();
    private readonly List<NodeProcess> _stopped = new();
    private readonly ulong[] _members;
    private readonly string _dataRoot;
    private readonly ILogger _logger;
    // Fresh for each cluster: its nodes sign their Raft traffic with it.
    private readonly byte[] _secret = RandomNumberGenerator.GetBytes(32);

    private LocalCluster(ulong[] members, string dataRoot, ILogger logger)
    {
        _members = members;
        _dataRoot = dataRoot;
        _logger = logger;
    }

    /// <summary>The running nodes, by id.</summary>
    public IReadOnlyDictionary<ulong, NodeProcess> Nodes => _nodes;

    /// <summary>Node <paramref name="id"/>'s data directory.</summary>
    public string DataDirectory(ulong id) => Path.Combine(_dataRoot, $"node-{id}");

    /// <summary>Starts nodes 1..<paramref name="size"/> and introduces them to each other.</summary>
    public static async Task<LocalCluster> StartAsync(int size, string dataRoot, ILogger logger, CancellationToken cancellationToken)
    {
        ulong[] members = Enumerable.Range(1, size).Select(i => (ulong)i).ToArray();
        var cluster = new LocalCluster(members, Path.GetFullPath(dataRoot), logger);
        try
        {
            Task<NodeProcess>[] starts = members
                .Select(id => NodeProcess.StartAsync(id, members, cluster.DataDirectory(id), cluster._secret, logger, cancellationToken))
                .ToArray();
            try
            {
                await Task.WhenAll(starts);
            }
            finally
            {
                // Keep every node that did start, so disposing the cluster stops it.
                foreach (Task<NodeProcess> start in starts.Where(s => s.IsCompletedSuccessfully))
                {
                    cluster._nodes[start.Result.Id] = start.Result;
                }
            }
            foreach (NodeProcess node in cluster._nodes.Values)
            {
                foreach (NodeProcess peer in cluster._nodes.Values.Where(n => n != node))
                {
                    await SetPeerAsync(node, peer, cancellationToken);
                }
            }
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>Kills node <paramref name="id"/>'s process (SIGKILL); its data directory stays.</summary>
    public async Task KillAsync(ulong id)
    {
        NodeProcess node = _nodes[id];
        _nodes.Remove(id);
        _stopped.Add(node);
        await node.KillAsync();
    }

    /// <summary>Starts node <paramref name="id"/> again on its data directory (new ports), and tells
    /// it and the others where everyone is.</summary>
    public async Task<NodeProcess> RestartAsync(ulong id, CancellationToken cancellationToken)
    {
        if (_nodes.ContainsKey(id))
        {
            throw new InvalidOperationException($"node {id} is running");
        }
        NodeProcess node = await NodeProcess.StartAsync(id, _members, DataDirectory(id), _secret, _logger, cancellationToken);
        _nodes[id] = node;
        await IntroduceAsync(node, cancellationToken);
        return node;
    }

    /// <summary>Tells <paramref name="node"/> every other running node's addresses, and them its.</summary>
    private async Task IntroduceAsync(NodeProcess node, CancellationToken cancellationToken)
    {
        foreach (NodeProcess other in _nodes.Values.Where(n => n != node))
        {
            await SetPeerAsync(node, other, cancellationToken);
            await SetPeerAsync(other, node, cancellationToken);
        }
    }

    private static async Task SetPeerAsync(NodeProcess node, NodeProcess peer, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await node.Client.PutAsJsonAsync(
            $"/peers/{peer.Id}", new PeerAddresses(peer.RaftAddress, peer.HttpUrl), cancellationToken);
        response.EnsureSuccessStatusCode();
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        NodeProcess[] all = _nodes.Values.Concat(_stopped).ToArray();
        _nodes.Clear();
        _stopped.Clear();
        await Task.WhenAll(all.Select(n => n.DisposeAsync().AsTask()));
    }
}
