namespace Synod;

/// <summary>A committed entry delivered to <see cref="RaftNode.OnReplicationReceived"/>.</summary>
public sealed class RaftLog
{
    internal RaftLog(long index, long term, string type, uint entryType, byte[] data)
    {
        Index = index;
        Term = term;
        Type = type;
        EntryType = entryType;
        Data = data;
    }

    /// <summary>The entry's index in its partition's log (1-based, increasing).</summary>
    public long Index { get; }

    /// <summary>The term in which the entry was proposed.</summary>
    public long Term { get; }

    /// <summary>The type string given to <see cref="RaftNode.ReplicateLogsAsync"/>; empty for an
    /// entry that another binding wrote without this binding's framing (then
    /// <see cref="Data"/> is the whole native payload).</summary>
    public string Type { get; }

    /// <summary>The native entry type (uint32 ≥ 1): the FNV-1a hash of <see cref="Type"/>.</summary>
    public uint EntryType { get; }

    /// <summary>The entry's bytes, a copy owned by this object.</summary>
    public ReadOnlyMemory<byte> Data { get; }
}

/// <summary>The outcome of <see cref="RaftNode.ReplicateLogsAsync"/>.</summary>
/// <param name="Status"><see cref="SynodStatus.Ok"/> when the entry committed; otherwise why not.
/// After <see cref="SynodStatus.Timeout"/> the entry may still commit.</param>
/// <param name="LogIndex">The committed entry's index (0 unless <see cref="Success"/>).</param>
/// <param name="Term">The committed entry's term (0 unless <see cref="Success"/>).</param>
/// <param name="LeaderHint">With <see cref="SynodStatus.NotLeader"/>: the leader when known, else 0.</param>
public readonly record struct ReplicationResult(SynodStatus Status, long LogIndex, long Term, ulong LeaderHint)
{
    /// <summary>Whether the entry committed.</summary>
    public bool Success => Status == SynodStatus.Ok;
}
