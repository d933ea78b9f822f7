// Orders: an order book replicated by Synod, deployed as one node per process over gRPC.
//
//   Orders node --id 1 [--members 1,2,3] [--data-dir DIR] [--grpc HOST:PORT]
//               [--peers 2=HOST:PORT,...] [--peer-urls 2=URL,...] [--urls URL]
//       one node and its HTTP API (POST /orders, GET /orders, GET /status, PUT /peers/{id})
//   Orders cluster [--data-dir orders-data]
//       starts three node processes on loopback ports the OS picks, introduces them to each
//       other, prints their URLs, and runs until Ctrl+C
//   Orders self-test
//       three processes, orders through a follower, the leader's process killed, more
//       orders, every surviving node checked to hold the same book; exits 0 or 1
using System.Runtime.InteropServices;
using Orders;

string command = args.FirstOrDefault() ?? "";
string[] rest = args.Skip(1).ToArray();
switch (command)
{
    case "node":
        return await OrderNode.RunAsync(rest);
    case "cluster":
    {
        using ILoggerFactory loggers = CreateLoggerFactory();
        return await RunClusterAsync(rest, loggers.CreateLogger("Orders.Cluster"));
    }
    case "self-test" or "--self-test":
    {
        using ILoggerFactory loggers = CreateLoggerFactory();
        return await SelfTest.RunAsync(loggers.CreateLogger("Orders.SelfTest"));
    }
    default:
        Console.Error.WriteLine("usage: Orders node --id N [options] | Orders cluster [--data-dir DIR] | Orders self-test");
        Console.Error.WriteLine("       (examples/dotnet/README.md has the options)");
        return 2;
}

static ILoggerFactory CreateLoggerFactory() => LoggerFactory.Create(b => b.AddSimpleConsole(o =>
{
    o.SingleLine = true;
    o.TimestampFormat = "HH:mm:ss.fff ";
}));

static async Task<int> RunClusterAsync(string[] args, ILogger logger)
{
    IConfiguration settings = new ConfigurationBuilder().AddCommandLine(args).Build();
    string dataRoot = Path.GetFullPath(settings["data-dir"] ?? "orders-data");
    var stop = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
    // Ctrl+C reaches the nodes too (one process group) and they stop themselves; SIGTERM
    // reaches only this process, which then stops them.
    using PosixSignalRegistration sigint = PosixSignalRegistration.Create(PosixSignal.SIGINT, Stop);
    using PosixSignalRegistration sigterm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, Stop);
    await using LocalCluster cluster = await LocalCluster.StartAsync(3, dataRoot, logger, CancellationToken.None);
    foreach (NodeProcess node in cluster.Nodes.Values)
    {
        logger.LogInformation("node {Id}: {Url} (Raft {Raft}, data {DataDirectory})",
            node.Id, node.HttpUrl, node.RaftAddress, cluster.DataDirectory(node.Id));
    }
    logger.LogInformation("try: curl -s -XPOST {Url}orders -H 'content-type: application/json' -d '{{\"item\":\"book\",\"quantity\":2}}'; Ctrl+C stops the cluster",
        cluster.Nodes[1].HttpUrl);
    await stop.Task;
    logger.LogInformation("stopping the nodes");
    return 0;

    void Stop(PosixSignalContext context)
    {
        context.Cancel = true;
        stop.TrySetResult();
    }
}
