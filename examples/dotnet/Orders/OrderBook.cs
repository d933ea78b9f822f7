using System.Text.Json;
using Synod;

namespace Orders;

/// <summary>An order as clients send it and as it is replicated.</summary>
public sealed record Order(Guid Id, string Item, int Quantity);

/// <summary>What a client posts.</summary>
public sealed record NewOrder(string Item, int Quantity);

/// <summary>One node's copy of the orders: the state machine fed by the committed entries of
/// partition 1. It lives in memory, so it saves itself as a snapshot when the node asks (the
/// log behind it is then compacted) and is replaced by a snapshot after a restart (the node
/// reads it, and the entries above it, back from its RocksDB directory) or when this node fell
/// behind.</summary>
public sealed class OrderBook : ISnapshotHandler
{
    /// <summary>The entry type of a placed order.</summary>
    public const string OrderPlaced = "OrderPlaced";

    /// <summary>The partition the orders live in.</summary>
    public const int Partition = 1;

    private readonly object _lock = new();
    // By id, with the index of the entry that first placed the order: placing is idempotent,
    // so a client that retries an order whose answer it lost does not place it twice.
    private readonly Dictionary<Guid, (long Index, Order Order)> _orders = new();
    private TaskCompletionSource _changed = NewSignal();
    private int _snapshotsSaved;

    /// <summary>Applies every committed order of <paramref name="node"/>, and saves and installs
    /// its snapshots. Call before the node starts, so no entry is missed.</summary>
    public void Attach(RaftNode node)
    {
        node.SnapshotHandler = this;
        node.OnReplicationReceived += (partition, log) =>
        {
            if (partition == Partition && log.Type == OrderPlaced)
            {
                Order order = JsonSerializer.Deserialize<Order>(log.Data.Span)!;
                Update(orders => orders.TryAdd(order.Id, (log.Index, order)));
            }
        };
    }

    /// <summary>The orders in log order.</summary>
    public IReadOnlyList<Order> All()
    {
        lock (_lock)
        {
            return _orders.Values.OrderBy(o => o.Index).Select(o => o.Order).ToArray();
        }
    }

    /// <summary>Waits until the book holds at least <paramref name="count"/> orders, then returns them in log order.</summary>
    public async Task<IReadOnlyList<Order>> WaitForCountAsync(int count, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_lock)
            {
                if (_orders.Count >= count)
                {
                    return _orders.Values.OrderBy(o => o.Index).Select(o => o.Order).ToArray();
                }
                changed = _changed.Task;
            }
            await changed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>Snapshots this book has saved.</summary>
    public int SnapshotsSaved => Volatile.Read(ref _snapshotsSaved);

    /// <inheritdoc/>
    public async Task SaveAsync(SnapshotSaveRequest request, Stream destination, CancellationToken cancellationToken)
    {
        // Called in log order, with no entry applied meanwhile: this is the book at request.Index.
        SnapshotEntry[] entries;
        lock (_lock)
        {
            entries = _orders.Values.OrderBy(o => o.Index).Select(o => new SnapshotEntry(o.Index, o.Order)).ToArray();
        }
        await JsonSerializer.SerializeAsync(destination, entries, cancellationToken: cancellationToken);
        Interlocked.Increment(ref _snapshotsSaved);
    }

    /// <inheritdoc/>
    public async Task InstallAsync(SnapshotInstallRequest request, Stream source, CancellationToken cancellationToken)
    {
        SnapshotEntry[] entries = (await JsonSerializer.DeserializeAsync<SnapshotEntry[]>(source, cancellationToken: cancellationToken))!;
        Update(orders =>
        {
            orders.Clear();
            foreach (SnapshotEntry e in entries)
            {
                orders[e.Order.Id] = (e.Index, e.Order);
            }
            return true;
        });
    }

    private void Update(Func<Dictionary<Guid, (long, Order)>, bool> change)
    {
        TaskCompletionSource? signal = null;
        lock (_lock)
        {
            if (change(_orders))
            {
                signal = _changed;
                _changed = NewSignal();
            }
        }
        signal?.TrySetResult();
    }

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);

    private sealed record SnapshotEntry(long Index, Order Order);
}
