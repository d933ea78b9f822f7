using System.Collections.Concurrent;
using System.Text.Json;
using Synod;

namespace Orders;

/// <summary>An order as clients send it and as it is replicated.</summary>
public sealed record Order(Guid Id, string Item, int Quantity);

/// <summary>What a client posts.</summary>
public sealed record NewOrder(string Item, int Quantity);

/// <summary>One node's copy of the orders: the state machine fed by committed entries.</summary>
public sealed class OrderBook
{
    /// <summary>The entry type of a placed order.</summary>
    public const string OrderPlaced = "OrderPlaced";

    private readonly ConcurrentDictionary<Guid, (long Index, Order Order)> _orders = new();

    /// <summary>Applies every committed order of partition 1 of <paramref name="node"/>.</summary>
    public void Attach(RaftNode node)
    {
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
}
