using Synod;

namespace Orders;

/// <summary>The leader of the orders' partition as this node learns it, from
/// <see cref="RaftNode.OnLeaderChanged"/>, with a version that grows on every change so a caller
/// can wait for the next one instead of polling.</summary>
public sealed class LeaderTracker
{
    private readonly object _lock = new();
    private ulong _leader;
    private long _version;
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>Follows <paramref name="node"/>'s leader changes. Call before the node starts.</summary>
    public void Attach(RaftNode node) => node.OnLeaderChanged += (partition, leader) =>
    {
        if (partition != OrderBook.Partition)
        {
            return;
        }
        TaskCompletionSource changed;
        lock (_lock)
        {
            _leader = leader;
            _version++;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }
        changed.TrySetResult();
    };

    /// <summary>The leader as last learned (0: none known).</summary>
    public ulong Leader
    {
        get
        {
            lock (_lock)
            {
                return _leader;
            }
        }
    }

    /// <summary>Waits until a leader is known that was learned after <paramref name="afterVersion"/>
    /// (-1: any known leader) and returns it with its version.</summary>
    public async Task<(ulong Leader, long Version)> WaitForLeaderAsync(long afterVersion, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_leader != 0 && _version > afterVersion)
                {
                    return (_leader, _version);
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellationToken);
        }
    }
}
