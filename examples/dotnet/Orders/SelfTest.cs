using System.Diagnostics;
using System.Net.Http.Json;

namespace Orders;

/// <summary>
/// <c>Orders self-test</c>: a deployment in miniature. Starts three node processes (gRPC and
/// HTTP on loopback ports the OS picks, a RocksDB directory each, under a fresh temporary
/// directory), places orders through one follower (which forwards them to the leader), kills
/// the leader's process, places more through the same node, and checks that both survivors
/// hold the same book: every order, in the order placed. Then restarts the killed node on its
/// data directory and checks it catches up to the same book. Every wait is bounded and driven
/// by the nodes' answers; every child process is stopped or killed at the end, pass or fail.
/// </summary>
public static class SelfTest
{
    private const int OrdersBeforeFailover = 5;
    private const int OrdersAfterFailover = 5;
    private static readonly TimeSpan Limit = TimeSpan.FromSeconds(180);

    /// <summary>Runs the test; 0 when it passes, 1 when it fails.</summary>
    public static async Task<int> RunAsync(ILogger logger)
    {
        DirectoryInfo dataRoot = Directory.CreateTempSubdirectory("synod-orders-");
        var clock = Stopwatch.StartNew();
        using var deadline = new CancellationTokenSource(Limit);
        try
        {
            await using (LocalCluster cluster = await LocalCluster.StartAsync(3, dataRoot.FullName, logger, deadline.Token))
            {
                logger.LogInformation("self-test: 3 node processes serving after {Elapsed} ms", clock.ElapsedMilliseconds);
                await RunScenarioAsync(cluster, logger, deadline.Token);
            }
            logger.LogInformation("self-test: OK in {Elapsed} ms", clock.ElapsedMilliseconds);
            return 0;
        }
        catch (Exception e)
        {
            logger.LogError(e, "self-test: FAILED after {Elapsed} ms", clock.ElapsedMilliseconds);
            return 1;
        }
        finally
        {
            dataRoot.Delete(recursive: true);
        }
    }

    private static async Task RunScenarioAsync(LocalCluster cluster, ILogger logger, CancellationToken cancellationToken)
    {
        var placed = new List<Order>();
        string[] items = { "book", "lamp", "chair", "desk", "pen", "mug", "rug", "clock", "shelf", "plant" };

        // The first order goes through node 1 and tells which node leads; the rest go through a
        // follower, which forwards them, and which survives the leader's death.
        PlacedOrder first = await PlaceAsync(cluster.Nodes[1], new NewOrder(items[0], 1), logger, cancellationToken);
        placed.Add(first.Order);
        ulong leader = first.Leader;
        NodeProcess entry = cluster.Nodes.Values.First(n => n.Id != leader);
        logger.LogInformation("self-test: node {Leader} leads; placing orders through node {Entry}", leader, entry.Id);
        for (int i = 1; i < OrdersBeforeFailover; i++)
        {
            placed.Add((await PlaceAsync(entry, new NewOrder(items[i], i + 1), logger, cancellationToken)).Order);
        }
        await ExpectBookAsync(cluster.Nodes.Values, placed, logger, cancellationToken);

        var failover = Stopwatch.StartNew();
        await cluster.KillAsync(leader);
        for (int i = OrdersBeforeFailover; i < OrdersBeforeFailover + OrdersAfterFailover; i++)
        {
            PlacedOrder order = await PlaceAsync(entry, new NewOrder(items[i], i + 1), logger, cancellationToken);
            if (order.Leader == leader)
            {
                throw new InvalidOperationException($"order {order.Order.Id} was committed by node {leader}, whose process is dead");
            }
            if (i == OrdersBeforeFailover)
            {
                logger.LogInformation("self-test: first order after the kill committed by node {Leader} after {Elapsed} ms",
                    order.Leader, failover.ElapsedMilliseconds);
            }
            placed.Add(order.Order);
        }
        await ExpectBookAsync(cluster.Nodes.Values, placed, logger, cancellationToken);

        // The killed node comes back on its RocksDB directory and catches up.
        NodeProcess restarted = await cluster.RestartAsync(leader, cancellationToken);
        await ExpectBookAsync(new[] { restarted }, placed, logger, cancellationToken);
        foreach (NodeProcess node in cluster.Nodes.Values)
        {
            NodeStatus status = (await node.Client.GetFromJsonAsync<NodeStatus>("/status", cancellationToken))!;
            logger.LogInformation("self-test: node {Id}: {Role}, term {Term}, applied {Applied}, {Orders} orders, {Snapshots} snapshots saved",
                status.Id, status.Role, status.Term, status.Applied, status.Orders, status.SnapshotsSaved);
        }
    }

    private static async Task<PlacedOrder> PlaceAsync(NodeProcess node, NewOrder order, ILogger logger, CancellationToken cancellationToken)
    {
        using HttpResponseMessage response = await node.Client.PostAsJsonAsync("/orders", order, cancellationToken);
        if (!response.IsSuccessStatusCode)
        {
            throw new InvalidOperationException(
                $"node {node.Id} refused {order}: {(int)response.StatusCode} {await response.Content.ReadAsStringAsync(cancellationToken)}");
        }
        PlacedOrder placed = (await response.Content.ReadFromJsonAsync<PlacedOrder>(cancellationToken))!;
        logger.LogInformation("self-test: placed {Item} x{Quantity} through node {Entry}: index {Index}, committed by node {Leader}",
            order.Item, order.Quantity, node.Id, placed.LogIndex, placed.Leader);
        return placed;
    }

    /// <summary>Checks that every node in <paramref name="nodes"/> holds exactly <paramref name="expected"/>,
    /// in that order, waiting (bounded, on the node's side) until it has them all.</summary>
    private static async Task ExpectBookAsync(
        IEnumerable<NodeProcess> nodes, IReadOnlyList<Order> expected, ILogger logger, CancellationToken cancellationToken)
    {
        foreach (NodeProcess node in nodes)
        {
            Order[] book = (await node.Client.GetFromJsonAsync<Order[]>($"/orders?atLeast={expected.Count}", cancellationToken))!;
            if (!book.SequenceEqual(expected))
            {
                throw new InvalidOperationException(
                    $"node {node.Id} holds {book.Length} orders [{string.Join(", ", book.Select(o => o.Item))}], " +
                    $"expected {expected.Count} [{string.Join(", ", expected.Select(o => o.Item))}]");
            }
            logger.LogInformation("self-test: node {Id} holds all {Count} orders in order", node.Id, expected.Count);
        }
    }
}
