using System.Diagnostics;
using System.Reflection;

namespace Orders;

/// <summary>
/// One <c>Orders node</c> child process of this program: started with the same executable (the
/// apphost, or <c>dotnet Orders.dll</c>), its output relayed to a logger, its addresses read from
/// the line it prints once it serves, and an <see cref="HttpClient"/> on its API. Disposing
/// closes its standard input (the node then stops cleanly) and kills it if it has not exited
/// within <see cref="StopTimeout"/>.
/// </summary>
public sealed class NodeProcess : IAsyncDisposable
{
    /// <summary>How long a node may take to start serving.</summary>
    public static readonly TimeSpan StartTimeout = TimeSpan.FromSeconds(60);

    /// <summary>How long a node may take to stop once asked.</summary>
    public static readonly TimeSpan StopTimeout = TimeSpan.FromSeconds(10);

    private readonly Process _process;
    private readonly ILogger _logger;
    private readonly Task _relay;

    private NodeProcess(ulong id, Process process, ILogger logger, Task relay, string raftAddress, Uri httpUrl)
    {
        Id = id;
        _process = process;
        _logger = logger;
        _relay = relay;
        RaftAddress = raftAddress;
        HttpUrl = httpUrl;
        Client = new HttpClient { BaseAddress = httpUrl, Timeout = TimeSpan.FromSeconds(30) };
    }

    /// <summary>The node's id.</summary>
    public ulong Id { get; }

    /// <summary>The node's Raft (gRPC) "host:port".</summary>
    public string RaftAddress { get; }

    /// <summary>The node's HTTP API.</summary>
    public Uri HttpUrl { get; }

    /// <summary>A client of the node's HTTP API.</summary>
    public HttpClient Client { get; }

    /// <summary>The child's process id.</summary>
    public int ProcessId => _process.Id;

    /// <summary>Whether the process has exited.</summary>
    public bool HasExited => _process.HasExited;

    /// <summary>Starts node <paramref name="id"/> with its data in <paramref name="dataDirectory"/>,
    /// signing Raft traffic with <paramref name="sharedSecret"/>, and waits until it serves.</summary>
    /// <exception cref="InvalidOperationException">It exited first.</exception>
    /// <exception cref="TimeoutException">It did not serve within <see cref="StartTimeout"/>.</exception>
    public static async Task<NodeProcess> StartAsync(ulong id, IEnumerable<ulong> members, string dataDirectory, byte[] sharedSecret,
        ILogger logger, CancellationToken cancellationToken)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath!)
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        // In the environment, not on the command line, where every local user could read it.
        start.Environment[OrderNode.SharedSecretVariable] = Convert.ToBase64String(sharedSecret);
        // Under `dotnet Orders.dll` the process is the dotnet host, which needs the assembly.
        if (Path.GetFileNameWithoutExtension(Environment.ProcessPath) == "dotnet")
        {
            start.ArgumentList.Add(Assembly.GetEntryAssembly()!.Location);
        }
        foreach (string arg in new[]
        {
            "node", "--id", id.ToString(), "--members", string.Join(',', members), "--data-dir", dataDirectory,
            "--grpc", "127.0.0.1:0", "--urls", "http://127.0.0.1:0", "--watch-stdin=true",
        })
        {
            start.ArgumentList.Add(arg);
        }

        var process = Process.Start(start) ?? throw new InvalidOperationException($"node {id} did not start");
        var ready = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        Task relay = Task.WhenAll(
            RelayAsync(process.StandardOutput, line =>
            {
                if (line.StartsWith(OrderNode.ReadyPrefix, StringComparison.Ordinal))
                {
                    ready.TrySetResult(line[OrderNode.ReadyPrefix.Length..]);
                }
                else
                {
                    logger.LogInformation("[node {Id}] {Line}", id, line);
                }
            }).ContinueWith(_ => ready.TrySetException(
                new InvalidOperationException($"node {id} exited before it served")), TaskScheduler.Default),
            RelayAsync(process.StandardError, line => logger.LogWarning("[node {Id} stderr] {Line}", id, line)));
        try
        {
            string line = await ready.Task.WaitAsync(StartTimeout, cancellationToken);
            // "id=N raft=HOST:PORT http=URL"
            Dictionary<string, string> fields = line.Split(' ').Select(f => f.Split('=', 2)).ToDictionary(f => f[0], f => f[1]);
            logger.LogInformation("Node {Id} (process {Pid}) serves at {Http}, Raft on {Raft}", id, process.Id, fields["http"], fields["raft"]);
            return new NodeProcess(id, process, logger, relay, fields["raft"], new Uri(fields["http"]));
        }
        catch
        {
            process.Kill(entireProcessTree: true);
            await process.WaitForExitAsync(CancellationToken.None);
            process.Dispose();
            throw;
        }
    }

    /// <summary>Kills the process at once (SIGKILL), as a crash or a pulled plug would, and waits until it is gone.</summary>
    public async Task KillAsync()
    {
        _process.Kill(entireProcessTree: true);
        await _process.WaitForExitAsync();
        _logger.LogInformation("Node {Id} (process {Pid}) killed", Id, _process.Id);
    }

    /// <inheritdoc/>
    public async ValueTask DisposeAsync()
    {
        Client.Dispose();
        try
        {
            if (!_process.HasExited)
            {
                _process.StandardInput.Close();
                try
                {
                    await _process.WaitForExitAsync().WaitAsync(StopTimeout);
                }
                catch (TimeoutException)
                {
                    _logger.LogWarning("Node {Id} did not stop within {Timeout}; killing it", Id, StopTimeout);
                    _process.Kill(entireProcessTree: true);
                    await _process.WaitForExitAsync();
                }
            }
            await _relay.WaitAsync(StopTimeout);
        }
        catch (Exception e) when (e is IOException or InvalidOperationException or TimeoutException)
        {
            // Already gone, or its output never closed: make sure it is gone.
            try
            {
                _process.Kill(entireProcessTree: true);
            }
            catch (InvalidOperationException)
            {
            }
        }
        finally
        {
            _process.Dispose();
        }
    }

    private static async Task RelayAsync(StreamReader reader, Action<string> onLine)
    {
        while (await reader.ReadLineAsync() is { } line)
        {
            onLine(line);
        }
    }
}
