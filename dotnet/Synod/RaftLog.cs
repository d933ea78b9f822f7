namespace Synod;

/// <summary>A committed entry delivered to <see cref="RaftNode.OnReplicationReceived"/>.</summary>
public sealed class RaftLog
{
    internal RaftLog(long index, long term, LogType type, byte[] data)
    {
        Index = index;
        Term = term;
        Type = type;
        Data = data;
    }

    /// <summary>The entry's index in its partition's log (1-based, increasing).</summary>
    public long Index { get; }

    /// <summary>The term in which the entry was proposed.</summary>
    public long Term { get; }

    /// <summary>The entry's log type, a string or a number, as whichever binding wrote it gave
    /// it (bindings/LOG_TYPES.md). Compares with a string directly: <c>log.Type == "OrderPlaced"</c>.</summary>
    public LogType Type { get; }

    /// <summary>The native entry type (uint32 ≥ 1) the C ABI carried: <see cref="LogType.EntryType"/>.</summary>
    public uint EntryType => Type.EntryType;

    /// <summary>The entry's bytes without its type, a copy owned by this object.</summary>
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
