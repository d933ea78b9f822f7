using System.Text.Json;
using Synod;

namespace Orders;

/// <summary>The three in-process nodes, and writes routed to whichever leads.</summary>
public sealed class OrderCluster(IServiceProvider services)
{
    /// <summary>The node ids of the example's cluster.</summary>
    public static readonly ulong[] NodeIds = { 1, 2, 3 };

    /// <summary>Node <paramref name="id"/>.</summary>
    public RaftNode Node(ulong id) => services.GetRequiredKeyedService<RaftNode>(id);

    /// <summary>Node <paramref name="id"/>'s orders.</summary>
    public OrderBook Book(ulong id) => services.GetRequiredKeyedService<OrderBook>(id);

    /// <summary>Replicates <paramref name="order"/> through the leader, following leadership while it moves.</summary>
    public async Task<(ReplicationResult Result, ulong Node)> PlaceAsync(Order order, CancellationToken cancellationToken)
    {
        byte[] data = JsonSerializer.SerializeToUtf8Bytes(order);
        ulong target = await Node(NodeIds[0]).WaitForLeaderAsync(1, TimeSpan.FromSeconds(10), cancellationToken);
        ReplicationResult result = default;
        for (int attempt = 0; attempt < 10; attempt++)
        {
            result = await Node(target).ReplicateLogsAsync(1, OrderBook.OrderPlaced, data, cancellationToken);
            if (result.Status != SynodStatus.NotLeader && result.Status != SynodStatus.NoLeader)
            {
                break;
            }
            target = result.LeaderHint != 0
                ? result.LeaderHint
                : await Node(target).WaitForLeaderAsync(1, TimeSpan.FromSeconds(10), cancellationToken);
        }
        return (result, target);
    }
}
