using System.Collections.Concurrent;
using Synod;

namespace Orders;

/// <summary>Where the other nodes are: their Raft (gRPC) address, given to the node, and their
/// HTTP address, where this node forwards orders while another node leads.</summary>
public sealed class PeerDirectory(RaftNode node, ILogger<PeerDirectory> logger)
{
    private readonly ConcurrentDictionary<ulong, Uri> _http = new();

    /// <summary>Sets (or moves) node <paramref name="id"/>'s addresses; either may be null to keep it.</summary>
    public void Set(ulong id, string? raftAddress, Uri? httpUrl)
    {
        if (id == node.NodeId)
        {
            throw new ArgumentException($"node {id} is this node", nameof(id));
        }
        if (raftAddress is not null)
        {
            node.SetPeerAddress(id, raftAddress);
        }
        if (httpUrl is not null)
        {
            _http[id] = httpUrl;
        }
        logger.LogInformation("Peer {Peer}: raft {RaftAddress}, http {HttpUrl}", id, raftAddress ?? "(unchanged)",
            httpUrl?.ToString() ?? "(unchanged)");
    }

    /// <summary>Node <paramref name="id"/>'s HTTP address, or null when unknown.</summary>
    public Uri? HttpUrl(ulong id) => _http.GetValueOrDefault(id);
}

/// <summary>The body of <c>PUT /peers/{id}</c>.</summary>
public sealed record PeerAddresses(string? Raft, Uri? Http);
