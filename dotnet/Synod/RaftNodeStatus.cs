using System.Text.Json;

namespace Synod;

/// <summary>A snapshot of a node's state, parsed from synod_node_status_json.</summary>
public sealed class RaftNodeStatus
{
    private RaftNodeStatus(ulong nodeId, IReadOnlyList<PartitionStatus> partitions, JsonElement transport, string json)
    {
        NodeId = nodeId;
        Partitions = partitions;
        Transport = transport;
        Json = json;
    }

    /// <summary>The node's id.</summary>
    public ulong NodeId { get; }

    /// <summary>Every hosted partition, system partition 0 included.</summary>
    public IReadOnlyList<PartitionStatus> Partitions { get; }

    /// <summary>The transport's counters, as the engine reports them (an object, or undefined).</summary>
    public JsonElement Transport { get; }

    /// <summary>The JSON text as the engine produced it; it may hold fields this type does not read.</summary>
    public string Json { get; }

    /// <summary>The partition <paramref name="partitionId"/>, or null when it is not hosted.</summary>
    public PartitionStatus? Partition(int partitionId) => Partitions.FirstOrDefault(p => p.PartitionId == partitionId);

    internal static RaftNodeStatus Parse(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        var partitions = new List<PartitionStatus>();
        if (root.TryGetProperty("partitions", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement p in list.EnumerateArray())
            {
                partitions.Add(new PartitionStatus(
                    (int)UInt64(p, "partition"),
                    p.TryGetProperty("role", out JsonElement role) ? role.GetString() ?? string.Empty : string.Empty,
                    (long)UInt64(p, "term"),
                    UInt64(p, "leader"),
                    (long)UInt64(p, "commit"),
                    (long)UInt64(p, "applied"),
                    (long)UInt64(p, "last_index"),
                    p.TryGetProperty("quiescent", out JsonElement q) && q.ValueKind == JsonValueKind.True,
                    p.TryGetProperty("storage_error", out JsonElement error) ? error.ToString() : null));
            }
        }
        JsonElement transport = root.TryGetProperty("transport", out JsonElement t) ? t.Clone() : default;
        return new RaftNodeStatus(UInt64(root, "node"), partitions, transport, json);
    }

    private static ulong UInt64(JsonElement element, string name) =>
        element.TryGetProperty(name, out JsonElement value) && value.ValueKind == JsonValueKind.Number &&
        value.TryGetUInt64(out ulong result)
            ? result
            : 0;
}

/// <summary>One partition's state in a <see cref="RaftNodeStatus"/>.</summary>
/// <param name="PartitionId">The partition (0 is the system partition).</param>
/// <param name="Role">"leader", "follower", "candidate" or "pre-candidate".</param>
/// <param name="Term">The current term.</param>
/// <param name="Leader">The leader as this node knows it; 0 when none.</param>
/// <param name="Commit">The commit index.</param>
/// <param name="Applied">The index delivered to the host.</param>
/// <param name="LastIndex">The last index in this node's log.</param>
/// <param name="Quiescent">Whether the partition is idle and quiesced.</param>
/// <param name="StorageError">Why the stored state is damaged, when it is; otherwise null.</param>
public sealed record PartitionStatus(
    int PartitionId, string Role, long Term, ulong Leader, long Commit, long Applied, long LastIndex,
    bool Quiescent, string? StorageError)
{
    /// <summary>Whether this node leads the partition.</summary>
    public bool IsLeader => Role == "leader";
}
