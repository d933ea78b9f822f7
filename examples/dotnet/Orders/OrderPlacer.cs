using System.Net;
using System.Text.Json;
using Synod;

namespace Orders;

/// <summary>An order committed to the log.</summary>
public sealed record PlacedOrder(Order Order, long LogIndex, ulong Leader);

/// <summary>An order that could not be committed; the message says why.</summary>
public sealed class OrderNotPlacedException(string message) : Exception(message);

/// <summary>Places orders: replicated here when this node leads partition 1, otherwise forwarded
/// over HTTP to the node that does. While leadership moves (the leader's process died, or it
/// stepped down) it waits for the next leader this node learns of, then tries again.</summary>
public sealed class OrderPlacer(RaftNode node, LeaderTracker leaders, PeerDirectory peers, HttpClient http, ILogger<OrderPlacer> logger)
{
    /// <summary>The path on which a leader takes orders forwarded by the other nodes.</summary>
    public const string ForwardPath = "/internal/orders";

    /// <summary>How long one order may take, elections included.</summary>
    public static readonly TimeSpan PlaceTimeout = TimeSpan.FromSeconds(15);

    /// <summary>Commits <paramref name="order"/> through whichever node leads.</summary>
    /// <exception cref="OrderNotPlacedException">It was refused, or no leader took it within <see cref="PlaceTimeout"/>.</exception>
    public async Task<PlacedOrder> PlaceAsync(Order order, CancellationToken cancellationToken)
    {
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(PlaceTimeout);
        long seen = -1;
        try
        {
            while (true)
            {
                (ulong leader, long version) = await leaders.WaitForLeaderAsync(seen, deadline.Token);
                seen = version;
                PlacedOrder? placed = leader == node.NodeId
                    ? await ReplicateHereAsync(order, deadline.Token)
                    : await ForwardAsync(leader, order, deadline.Token);
                if (placed is not null)
                {
                    return placed;
                }
                // Placing is idempotent (the book keys orders by id), so trying again after an
                // unanswered attempt cannot place an order twice.
                logger.LogInformation("Order {OrderId}: node {Leader} no longer leads; waiting for the next leader", order.Id, leader);
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            throw new OrderNotPlacedException($"no leader committed the order within {PlaceTimeout.TotalSeconds} s");
        }
    }

    /// <summary>Replicates <paramref name="order"/> through this node; null when it does not lead.</summary>
    /// <exception cref="OrderNotPlacedException">The node refused it for another reason.</exception>
    public async Task<PlacedOrder?> ReplicateHereAsync(Order order, CancellationToken cancellationToken)
    {
        ReplicationResult result = await node.ReplicateLogsAsync(OrderBook.Partition, OrderBook.OrderPlaced,
            JsonSerializer.SerializeToUtf8Bytes(order), cancellationToken);
        return result.Status switch
        {
            SynodStatus.Ok => new PlacedOrder(order, result.LogIndex, node.NodeId),
            SynodStatus.NotLeader or SynodStatus.NoLeader => null,
            _ => throw new OrderNotPlacedException($"node {node.NodeId} did not commit it: {result.Status}"),
        };
    }

    private async Task<PlacedOrder?> ForwardAsync(ulong leader, Order order, CancellationToken cancellationToken)
    {
        Uri url = peers.HttpUrl(leader) ?? throw new OrderNotPlacedException($"node {leader} leads, but its HTTP address is unknown");
        HttpResponseMessage response;
        try
        {
            response = await http.PostAsJsonAsync(new Uri(url, ForwardPath), order, cancellationToken);
        }
        catch (HttpRequestException e)
        {
            // Typically the leader's process is gone; this node learns of the next leader soon.
            logger.LogWarning("Order {OrderId}: node {Leader} at {Url} did not answer ({Error})", order.Id, leader, url, e.Message);
            return null;
        }
        using (response)
        {
            if (response.StatusCode == HttpStatusCode.MisdirectedRequest)
            {
                return null;
            }
            if (!response.IsSuccessStatusCode)
            {
                throw new OrderNotPlacedException(
                    $"node {leader} did not commit it: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
            }
            return await response.Content.ReadFromJsonAsync<PlacedOrder>(cancellationToken);
        }
    }
}
