using System.Globalization;
using Synod;

namespace Orders;

/// <summary>
/// <c>Orders node</c>: one Synod node and its order book behind an HTTP API, the process a
/// deployment runs on each machine. Settings come from the command line (or any ASP.NET Core
/// configuration source: appsettings.json, environment variables):
/// <list type="table">
/// <item><term>--id N</term><description>this node's id (required)</description></item>
/// <item><term>--members 1,2,3</term><description>the voters of a new cluster (default 1,2,3)</description></item>
/// <item><term>--data-dir DIR</term><description>the node's RocksDB directory (default orders-data/node-N)</description></item>
/// <item><term>--grpc HOST:PORT</term><description>the Raft listener (default 127.0.0.1:0, a port the OS picks)</description></item>
/// <item><term>--peers 2=HOST:PORT,...</term><description>the other nodes' Raft addresses</description></item>
/// <item><term>--peer-urls 2=http://HOST:PORT,...</term><description>their HTTP addresses, for forwarding orders to the leader</description></item>
/// <item><term>--urls URL</term><description>the HTTP listener (default http://127.0.0.1:0)</description></item>
/// </list>
/// With the environment variable <c>ORDERS_SHARED_SECRET</c> (base64, at least 16 bytes, the same
/// on every node) the nodes sign their Raft traffic; without it, it is plain text.
/// Peers may also be given, or moved, at run time with <c>PUT /peers/{id}</c>. Once serving, the
/// node prints one line <c>orders-node ready id=N raft=HOST:PORT http=URL</c> on stdout.
/// </summary>
public static class OrderNode
{
    /// <summary>The prefix of the line a node prints once it serves.</summary>
    public const string ReadyPrefix = "orders-node ready ";

    /// <summary>The environment variable with the cluster's shared secret (base64).</summary>
    public const string SharedSecretVariable = "ORDERS_SHARED_SECRET";

    /// <summary>How long <c>GET /orders?atLeast=N</c> waits for the N-th order.</summary>
    public static readonly TimeSpan ReadWaitLimit = TimeSpan.FromSeconds(20);

    /// <summary>Runs the node until the host stops (Ctrl+C, SIGTERM, or with --watch-stdin=true
    /// the end of standard input, which is how <see cref="NodeProcess"/> stops its children).</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        builder.Logging.AddSimpleConsole(o =>
        {
            o.SingleLine = true;
            o.TimestampFormat = "HH:mm:ss.fff ";
        });
        // Request logs would drown the replication story; the node logs through ILogger<RaftNode>.
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddFilter("System.Net.Http.HttpClient", LogLevel.Warning);
        IConfiguration settings = builder.Configuration;
        ulong id = ulong.Parse(settings["id"] ?? throw new ArgumentException("--id is required"), CultureInfo.InvariantCulture);
        if (settings["urls"] is null)
        {
            builder.WebHost.UseUrls("http://127.0.0.1:0");
        }
        string dataDirectory = Path.GetFullPath(settings["data-dir"] ?? Path.Combine("orders-data", $"node-{id}"));

        string? secret = settings["shared-secret"] ?? Environment.GetEnvironmentVariable(SharedSecretVariable);

        builder.Services.AddSingleton<OrderBook>();
        builder.Services.AddSingleton<LeaderTracker>();
        builder.Services.AddSingleton<PeerDirectory>();
        builder.Services.AddHttpClient<OrderPlacer>(client => client.Timeout = TimeSpan.FromSeconds(10));
        builder.Services.AddSynodRaftNode(
            _ => new RaftConfiguration
            {
                NodeId = id,
                Members = ParseIds(settings["members"] ?? "1,2,3"),
                GrpcListenAddress = settings["grpc"] ?? "127.0.0.1:0",
                PeerAddresses = ParseMap(settings["peers"], address => address),
                SharedSecret = secret is null ? null : Convert.FromBase64String(secret),
                Storage = StorageEngine.RocksDb,
                DataDirectory = dataDirectory,
                WorkerThreads = 1,
                // The book lives in memory: a snapshot every 4 orders, the log compacted behind
                // it. A node that was down long catches up from the leader's snapshot.
                SnapshotEveryEntries = 4,
                SnapshotKeepEntries = 2,
            },
            // Handlers are attached before the node starts, so no entry or leader change is missed.
            (sp, node) =>
            {
                sp.GetRequiredService<OrderBook>().Attach(node);
                sp.GetRequiredService<LeaderTracker>().Attach(node);
            });

        WebApplication app = builder.Build();
        MapEndpoints(app);
        await app.StartAsync();

        RaftNode raft = app.Services.GetRequiredService<RaftNode>();
        PeerDirectory peers = app.Services.GetRequiredService<PeerDirectory>();
        foreach ((ulong peer, Uri url) in ParseMap(settings["peer-urls"], url => new Uri(url)))
        {
            peers.Set(peer, null, url);
        }
        // The port the server picked for :0.
        string httpUrl = app.Urls.First();
        string raftAddress = $"{Host(settings["grpc"])}:{raft.ListenPort}";
        app.Logger.LogInformation("Node {Id} serving orders at {HttpUrl}, Raft on {RaftAddress}, data in {DataDirectory}",
            id, httpUrl, raftAddress, dataDirectory);
        Console.Out.WriteLine($"{ReadyPrefix}id={id} raft={raftAddress} http={httpUrl}");
        Console.Out.Flush();

        if (settings.GetValue<bool>("watch-stdin"))
        {
            // Started by a parent process: stop when it closes our input, or dies.
            _ = Task.Run(async () =>
            {
                while (await Console.In.ReadLineAsync() is not null)
                {
                }
                app.Lifetime.StopApplication();
            });
        }
        await app.WaitForShutdownAsync();
        return 0;
    }

    private static void MapEndpoints(WebApplication app)
    {
        app.MapPost("/orders", async (NewOrder request, OrderPlacer placer, CancellationToken cancellationToken) =>
        {
            if (string.IsNullOrWhiteSpace(request.Item) || request.Quantity < 1)
            {
                return Results.BadRequest("an order needs an item and a quantity of at least 1");
            }
            var order = new Order(Guid.NewGuid(), request.Item, request.Quantity);
            try
            {
                PlacedOrder placed = await placer.PlaceAsync(order, cancellationToken);
                return Results.Created($"/orders/{order.Id}", placed);
            }
            catch (OrderNotPlacedException e)
            {
                return Results.Problem(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });

        // Orders forwarded by the other nodes to this one, which they believe leads. 421 tells
        // the sender it does not (any more).
        app.MapPost(OrderPlacer.ForwardPath, async (Order order, OrderPlacer placer, CancellationToken cancellationToken) =>
        {
            try
            {
                PlacedOrder? placed = await placer.ReplicateHereAsync(order, cancellationToken);
                return placed is null ? Results.StatusCode(StatusCodes.Status421MisdirectedRequest) : Results.Ok(placed);
            }
            catch (OrderNotPlacedException e)
            {
                return Results.Problem(e.Message, statusCode: StatusCodes.Status503ServiceUnavailable);
            }
        });

        // This node's copy, in log order. With atLeast=N, first waits (bounded) until it holds N orders.
        app.MapGet("/orders", async (OrderBook book, int? atLeast, CancellationToken cancellationToken) =>
        {
            if (atLeast is not { } count)
            {
                return Results.Ok(book.All());
            }
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(ReadWaitLimit);
            try
            {
                return Results.Ok(await book.WaitForCountAsync(count, deadline.Token));
            }
            catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
            {
                return Results.Ok(book.All());
            }
        });

        app.MapGet("/status", (RaftNode node, OrderBook book) =>
        {
            PartitionStatus? partition = node.GetStatus().Partition(OrderBook.Partition);
            return new NodeStatus(node.NodeId, partition?.Role ?? "", partition?.Term ?? 0, partition?.Leader ?? 0,
                partition?.Commit ?? 0, partition?.Applied ?? 0, book.All().Count, book.SnapshotsSaved);
        });

        app.MapPut("/peers/{id}", (ulong id, PeerAddresses addresses, PeerDirectory peers) =>
        {
            peers.Set(id, addresses.Raft, addresses.Http);
            return Results.NoContent();
        });
    }

    private static List<ulong> ParseIds(string text) =>
        text.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(s => ulong.Parse(s, CultureInfo.InvariantCulture)).ToList();

    // "2=a,3=b" → {2: a, 3: b}.
    private static Dictionary<ulong, T> ParseMap<T>(string? text, Func<string, T> value) =>
        (text ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries)
            .Select(pair => pair.Split('=', 2))
            .ToDictionary(kv => ulong.Parse(kv[0], CultureInfo.InvariantCulture), kv => value(kv[1]));

    private static string Host(string? listenAddress) =>
        listenAddress is null ? "127.0.0.1" : listenAddress[..listenAddress.LastIndexOf(':')];
}

/// <summary>A node as <c>GET /status</c> shows it: partition 1 and the book.</summary>
public sealed record NodeStatus(ulong Id, string Role, long Term, ulong Leader, long Commit, long Applied, int Orders, int SnapshotsSaved);
