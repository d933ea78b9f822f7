using System.Text.Json;

namespace Synod;

/// <summary>How a partition of the map is addressed (synod_routing_mode).</summary>
public enum PartitionRoutingMode
{
    /// <summary>Addressed by id only; owns no keys.</summary>
    Unrouted = 0,
    /// <summary>Owns the key hashes in [Lo, Hi] (inclusive).</summary>
    HashRange = 1,
}

/// <summary>A partition's state in the map (synod_partition_state).</summary>
public enum PartitionMapState
{
    /// <summary>Serving.</summary>
    Active = 0,
    /// <summary>The new partition of a split not yet complete: not routed, refuses proposals.</summary>
    Splitting = 1,
    /// <summary>The source of a merge under way: still routed, refuses new proposals.</summary>
    Draining = 2,
    /// <summary>Gone; kept so that its id is never reused.</summary>
    Removed = 3,
}

/// <summary>One partition of the map. <see cref="Lo"/> and <see cref="Hi"/> are 0 for unrouted
/// partitions; <see cref="Peer"/> is the other partition of a split or merge under way, else 0.</summary>
public sealed record PartitionMapEntry(int PartitionId, PartitionMapState State, PartitionRoutingMode Mode,
    ulong Lo, ulong Hi, ulong Generation, int Peer);

/// <summary>The partition map as a node has applied it (committed, possibly behind the leader of
/// partition 0): its version, the id the next created partition gets, and every partition ever
/// created, removed ones included, ordered by id.</summary>
public sealed record PartitionMap(ulong Version, int NextId, IReadOnlyList<PartitionMapEntry> Partitions)
{
    /// <summary>The partition <paramref name="partitionId"/>, or null when the map never held it.</summary>
    public PartitionMapEntry? Find(int partitionId) => Partitions.FirstOrDefault(p => p.PartitionId == partitionId);

    internal static PartitionMap Parse(string json)
    {
        using JsonDocument document = JsonDocument.Parse(json);
        JsonElement root = document.RootElement;
        var partitions = new List<PartitionMapEntry>();
        foreach (JsonElement p in root.GetProperty("partitions").EnumerateArray())
        {
            partitions.Add(new PartitionMapEntry(
                checked((int)p.GetProperty("id").GetUInt64()),
                ParseState(p.GetProperty("state").GetString()),
                p.GetProperty("mode").GetString() == "hash_range" ? PartitionRoutingMode.HashRange : PartitionRoutingMode.Unrouted,
                p.GetProperty("lo").GetUInt64(),
                p.GetProperty("hi").GetUInt64(),
                p.GetProperty("generation").GetUInt64(),
                checked((int)p.GetProperty("peer").GetUInt64())));
        }
        return new PartitionMap(root.GetProperty("version").GetUInt64(),
            checked((int)root.GetProperty("next_id").GetUInt64()), partitions);
    }

    private static PartitionMapState ParseState(string? state) => state switch
    {
        "active" => PartitionMapState.Active,
        "splitting" => PartitionMapState.Splitting,
        "draining" => PartitionMapState.Draining,
        "removed" => PartitionMapState.Removed,
        _ => throw new FormatException($"unknown partition state '{state}'"),
    };
}

/// <summary>Where a key goes: the partition and the generation to carry with a proposal;
/// <see cref="State"/> is Active or Draining (a draining partition refuses proposals until its
/// merge finishes).</summary>
public readonly record struct PartitionRoute(int PartitionId, ulong Generation, PartitionMapState State);

/// <summary>A change of the partition map, applied: the partition created (or removed), the map
/// version after the change, and the change's index in the log of partition 0.</summary>
public sealed record PartitionMapChange(int PartitionId, ulong MapVersion, long Index);

/// <summary>The partition map refused a change (or it failed on its way): <see cref="SynodException.Status"/>
/// is StaleMapVersion, MapConflict, UnknownPartition, InvalidArgument, SystemPartition...;
/// <see cref="Reason"/> is the map's own reason (for example "overlapping ranges") and
/// <see cref="MapVersion"/> the map's version when it refused.</summary>
public sealed class PartitionMapException : SynodException
{
    /// <summary>Creates the exception.</summary>
    public PartitionMapException(SynodStatus status, string message, string? reason, ulong mapVersion)
        : base(status, message)
    {
        Reason = reason;
        MapVersion = mapVersion;
    }

    /// <summary>The map's reason (synod_map_reason as text), or null when the map was not reached.</summary>
    public string? Reason { get; }

    /// <summary>The map version when the map refused the change; 0 when it was not reached.</summary>
    public ulong MapVersion { get; }
}
