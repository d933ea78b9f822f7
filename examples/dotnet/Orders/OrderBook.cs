using System.Collections.Concurrent;
using System.Text.Json;
using Synod;

namespace Orders;

/// <summary>An order as clients send it and as it is replicated.</summary>
public sealed record Order(Guid Id, string Item, int Quantity);

/// <summary>What a client posts.</summary>
public sealed record NewOrder(string Item, int Quantity);

/// <summary>One node's copy of the orders: the state machine fed by committed entries. It lives in
/// memory, so it also saves itself as a snapshot when the node asks (the log behind it is then
/// compacted) and is replaced by a snapshot after a restart or when this node fell behind.</summary>
public sealed class OrderBook : ISnapshotHandler
{
    /// <summary>The entry type of a placed order.</summary>
    public const string OrderPlaced = "OrderPlaced";

    private readonly ConcurrentDictionary<Guid, (long Index, Order Order)> _orders = new();
    private int _snapshotsSaved;

    /// <summary>Applies every committed order of partition 1 of <paramref name="node"/>, and
    /// saves and installs its snapshots.</summary>
    public void Attach(RaftNode node)
    {
        node.SnapshotHandler = this;
        node.OnReplicationReceived += (partition, log) =>
        {
            if (partition == 1 && log.Type == OrderPlaced)
            {
                Order order = JsonSerializer.Deserialize<Order>(log.Data.Span)!;
                _orders[order.Id] = (log.Index, order);
            }
        };
    }

    /// <summary>The orders in log order.</summary>
    public IReadOnlyList<Order> All() => _orders.Values.OrderBy(o => o.Index).Select(o => o.Order).ToArray();

    /// <summary>Snapshots this book has saved.</summary>
    public int SnapshotsSaved => Volatile.Read(ref _snapshotsSaved);

    /// <inheritdoc/>
    public async Task SaveAsync(SnapshotSaveRequest request, Stream destination, CancellationToken cancellationToken)
    {
        // Called in log order, with no entry applied meanwhile: this is the book at request.Index.
        SnapshotEntry[] entries = _orders.Values.OrderBy(o => o.Index).Select(o => new SnapshotEntry(o.Index, o.Order)).ToArray();
        await JsonSerializer.SerializeAsync(destination, entries, cancellationToken: cancellationToken);
        Interlocked.Increment(ref _snapshotsSaved);
    }

    /// <inheritdoc/>
    public async Task InstallAsync(SnapshotInstallRequest request, Stream source, CancellationToken cancellationToken)
    {
        SnapshotEntry[] entries = (await JsonSerializer.DeserializeAsync<SnapshotEntry[]>(source, cancellationToken: cancellationToken))!;
        _orders.Clear();
        foreach (SnapshotEntry e in entries)
        {
            _orders[e.Order.Id] = (e.Index, e.Order);
        }
    }

    private sealed record SnapshotEntry(long Index, Order Order);
}
