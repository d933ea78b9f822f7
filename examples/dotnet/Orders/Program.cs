// A minimal ASP.NET Core service replicating orders across three Synod nodes hosted in
// this process over an in-process network.
//   dotnet run -- --urls http://127.0.0.1:5080
//   POST /orders {"item":"book","quantity":2}   GET /orders?node=2   GET /cluster
//   dotnet run -- --self-test    starts, places orders, checks every node has them and has
//                                snapshotted its book, exits 0.
using System.Net.Http.Json;
using Orders;
using Synod;

bool selfTest = args.Contains("--self-test");
WebApplicationBuilder builder = WebApplication.CreateBuilder(args.Where(a => a != "--self-test").ToArray());
// Request logs would drown the replication story; the nodes log through ILogger<RaftNode>.
builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
if (selfTest)
{
    builder.WebHost.UseUrls("http://127.0.0.1:0");
}

builder.Services.AddSingleton<RaftNetwork>();
builder.Services.AddSingleton<OrderCluster>();
foreach (ulong id in OrderCluster.NodeIds)
{
    builder.Services.AddKeyedSingleton<OrderBook>(id);
    builder.Services.AddKeyedSynodRaftNode(id,
        sp => new RaftConfiguration
        {
            NodeId = id,
            Members = OrderCluster.NodeIds.ToList(),
            Network = sp.GetRequiredService<RaftNetwork>(),
            WorkerThreads = 1,
            // The books live in memory: a snapshot every 2 orders, the log compacted behind it.
            SnapshotEveryEntries = 2,
            SnapshotKeepEntries = 1,
        },
        // Handlers are attached before the node starts, so no order is missed.
        (sp, node) => sp.GetRequiredKeyedService<OrderBook>(id).Attach(node));
}

WebApplication app = builder.Build();

app.MapPost("/orders", async (NewOrder request, OrderCluster cluster, CancellationToken cancellationToken) =>
{
    if (string.IsNullOrWhiteSpace(request.Item) || request.Quantity < 1)
    {
        return Results.BadRequest("an order needs an item and a quantity of at least 1");
    }
    var order = new Order(Guid.NewGuid(), request.Item, request.Quantity);
    (ReplicationResult result, ulong node) = await cluster.PlaceAsync(order, cancellationToken);
    return result.Success
        ? Results.Created($"/orders/{order.Id}", new { order, result.LogIndex, leader = node })
        : Results.Problem($"not replicated: {result.Status}", statusCode: StatusCodes.Status503ServiceUnavailable);
});

app.MapGet("/orders", (OrderCluster cluster, ulong? node) =>
{
    ulong id = node ?? OrderCluster.NodeIds[0];
    return OrderCluster.NodeIds.Contains(id) ? Results.Ok(cluster.Book(id).All()) : Results.NotFound($"no node {id}");
});

app.MapGet("/cluster", (OrderCluster cluster) =>
    OrderCluster.NodeIds.Select(id => cluster.Node(id).GetStatus().Partition(1)).ToArray());

if (!selfTest)
{
    app.Run();
    return 0;
}

await app.StartAsync();
try
{
    // The port the server picked for 127.0.0.1:0.
    string address = app.Urls.First();
    using var client = new HttpClient { BaseAddress = new Uri(address), Timeout = TimeSpan.FromSeconds(30) };
    var placed = new List<Guid>();
    foreach ((string item, int quantity) in new[] { ("book", 2), ("lamp", 1), ("chair", 4), ("desk", 1), ("pen", 12) })
    {
        HttpResponseMessage response = await client.PostAsJsonAsync("/orders", new NewOrder(item, quantity));
        response.EnsureSuccessStatusCode();
        PlacedOrder created = (await response.Content.ReadFromJsonAsync<PlacedOrder>())!;
        placed.Add(created.Order.Id);
        Console.WriteLine($"self-test: placed {item} x{quantity} at index {created.LogIndex} through node {created.Leader}");
    }
    using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(20));
    foreach (ulong id in OrderCluster.NodeIds)
    {
        while (true)
        {
            Order[] orders = (await client.GetFromJsonAsync<Order[]>($"/orders?node={id}", deadline.Token))!;
            if (orders.Select(o => o.Id).SequenceEqual(placed))
            {
                Console.WriteLine($"self-test: node {id} has all {placed.Count} orders in order");
                break;
            }
            // Followers apply shortly after the leader acknowledges; poll until then.
            await Task.Delay(20, deadline.Token);
        }
    }
    foreach (ulong id in OrderCluster.NodeIds)
    {
        OrderBook book = app.Services.GetRequiredService<OrderCluster>().Book(id);
        while (book.SnapshotsSaved == 0)
        {
            await Task.Delay(20, deadline.Token);
        }
        Console.WriteLine($"self-test: node {id} saved {book.SnapshotsSaved} snapshots of its book; its log was compacted behind them");
    }
    Console.WriteLine("self-test: OK");
    return 0;
}
catch (Exception ex)
{
    Console.Error.WriteLine($"self-test: FAILED: {ex}");
    return 1;
}
finally
{
    await app.StopAsync();
}

internal sealed record PlacedOrder(Order Order, long LogIndex, ulong Leader);
