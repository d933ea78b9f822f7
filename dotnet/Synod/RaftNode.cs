using System.Buffers;
using System.Collections.Concurrent;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Synod.Interop;

namespace Synod;

/// <summary>
/// One Synod node: a member of a multi-Raft cluster hosting partitions 1..UserPartitions.
/// </summary>
/// <remarks>
/// <para>Lifecycle: construct (validates the configuration), attach event handlers, then
/// <see cref="Start"/>; finally <see cref="DisposeAsync"/>, which stops the node, completes
/// every pending request with <see cref="SynodStatus.ShuttingDown"/> and frees it.</para>
/// <para>Threads: no native thread ever runs managed code. Each node owns two managed
/// threads: a poll thread ("synod-poll-N") that drains the native event queue and completes
/// request tasks (created with <see cref="TaskCreationOptions.RunContinuationsAsynchronously"/>,
/// so awaiting code continues on the thread pool), and a dispatch thread ("synod-events-N")
/// that raises <see cref="OnReplicationReceived"/> and <see cref="OnLeaderChanged"/>, one
/// handler call at a time, in the order the engine produced them (log order per partition).
/// A slow handler delays later events but never request completions.</para>
/// <para>Errors: <see cref="ReplicateLogsAsync"/> reports every engine outcome in
/// <see cref="ReplicationResult.Status"/>; the other operations throw
/// <see cref="NotLeaderException"/> or <see cref="SynodException"/>. All throw
/// <see cref="ArgumentException"/>s for bad arguments, <see cref="ObjectDisposedException"/>
/// after disposal, <see cref="InvalidOperationException"/> before <see cref="Start"/>, and
/// complete as cancelled when their token is cancelled (a request already handed to the
/// engine may still take effect; its result is then ignored).</para>
/// </remarks>
public sealed class RaftNode : IAsyncDisposable
{
    private const int PollBatch = 64;
    // Bounded so a loop is never stuck in native code for long, whatever happens to the node.
    private const int PollTimeoutMs = 200;

    private const int Created = 0, Running = 1, Stopped = 2;

    private readonly ILogger _logger;
    private readonly int _maxPayloadBytes;
    private readonly TimeSpan _requestTimeout;
    private readonly ConcurrentDictionary<ulong, TaskCompletionSource<NativeResult>> _pending = new();
    private readonly Dictionary<int, List<TaskCompletionSource<ulong>>> _leaderWaiters = new();
    private readonly BlockingCollection<Action> _dispatch = new();
    private readonly TaskCompletionSource _pollExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly TaskCompletionSource _dispatchExited = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly object _lifecycle = new();
    // Cancelled when the node is disposed: the token snapshot handlers get.
    private readonly CancellationTokenSource _stopping = new();

    private SafeConfigHandle? _config;
    private SafeNodeHandle? _node;
    private Thread? _pollThread;
    private Thread? _dispatchThread;
    private Task? _disposal;
    private ISnapshotHandler? _snapshotHandler;
    private SynodMetrics.Source? _metrics;
    private long _nextTag;
    private int _state;

    /// <summary>Validates <paramref name="configuration"/> and prepares the node; <see cref="Start"/> starts it.</summary>
    /// <exception cref="ArgumentException">A setting is missing or out of range.</exception>
    public RaftNode(RaftConfiguration configuration, ILogger<RaftNode>? logger = null)
    {
        ArgumentNullException.ThrowIfNull(configuration);
        _config = configuration.ToNative();
        NodeId = configuration.NodeId;
        ClusterId = configuration.ClusterId;
        _maxPayloadBytes = configuration.MaxPayloadBytes;
        _requestTimeout = configuration.RequestTimeout;
        _logger = (ILogger?)logger ?? NullLogger.Instance;
    }

    /// <summary>A committed entry, on every node (the leader included), in log order per partition.
    /// Raised on the node's dispatch thread with the partition id and the entry.</summary>
    public event Action<int, RaftLog>? OnReplicationReceived;

    /// <summary>This node learned of a new leader of a partition (0: leadership lost, none known yet).
    /// Raised on the node's dispatch thread with the partition id and the leader's node id.</summary>
    public event Action<int, ulong>? OnLeaderChanged;

    /// <summary>This node's id.</summary>
    public ulong NodeId { get; }

    /// <summary>The id of this node's cluster (<see cref="RaftConfiguration.ClusterId"/>).</summary>
    public ulong ClusterId { get; }

    /// <summary>Saves and installs the host's state (see <see cref="ISnapshotHandler"/> and
    /// <see cref="RaftConfiguration.StateMachine"/>). Set before <see cref="Start"/>. Without one,
    /// every snapshot the node asks for fails: no snapshot is kept, and a snapshot that must be
    /// installed halts its partition.</summary>
    /// <exception cref="InvalidOperationException">Set after <see cref="Start"/>.</exception>
    public ISnapshotHandler? SnapshotHandler
    {
        get => Volatile.Read(ref _snapshotHandler);
        set
        {
            lock (_lifecycle)
            {
                if (_state != Created)
                {
                    throw new InvalidOperationException("set the SnapshotHandler before Start()");
                }
                _snapshotHandler = value;
            }
        }
    }

    /// <summary>Whether <see cref="Start"/> succeeded and the node is not disposed.</summary>
    public bool IsRunning => Volatile.Read(ref _state) == Running;

    /// <summary>The library's version, "MAJOR.MINOR.PATCH".</summary>
    public static string NativeVersion => Marshal.PtrToStringUTF8(NativeMethods.Version()) ?? string.Empty;

    /// <summary>Creates the native node: opens or bootstraps its store, starts its transport, its
    /// partitions and the node's poll and dispatch threads.</summary>
    /// <exception cref="SynodException">Status <see cref="SynodStatus.Config"/>, <see cref="SynodStatus.Storage"/>
    /// or <see cref="SynodStatus.Transport"/> with the engine's explanation.</exception>
    /// <exception cref="InvalidOperationException">Start was called before.</exception>
    public void Start()
    {
        lock (_lifecycle)
        {
            ObjectDisposedException.ThrowIf(_disposal is not null, this);
            if (_state != Created || _config is null)
            {
                throw new InvalidOperationException("the node was started before");
            }
            int status = NativeMethods.NodeNew(_config, out SafeNodeHandle node);
            node.TrackCreated();
            // Read the error text before any other synod_ call on this thread replaces it.
            SynodException? failure = status != 0 ? SynodException.FromNative(status, "synod_node_new") : null;
            _config.Dispose();
            _config = null;
            if (failure is not null)
            {
                node.Dispose();
                _state = Stopped;
                throw failure;
            }
            _node = node;
            _pollThread = new Thread(PollLoop) { IsBackground = true, Name = $"synod-poll-{NodeId}" };
            _dispatchThread = new Thread(DispatchLoop) { IsBackground = true, Name = $"synod-events-{NodeId}" };
            _dispatchThread.Start();
            _pollThread.Start();
            Volatile.Write(ref _state, Running);
            // The Meter "Synod" observes the node from now until it is disposed.
            _metrics = SynodMetrics.Register(this);
        }
    }

    /// <summary>Whether this node leads the partition now, as it sees it locally (use
    /// <see cref="ReadIndexAsync"/> for a linearizable confirmation).</summary>
    /// <exception cref="SynodException">For example <see cref="SynodStatus.UnknownPartition"/>.</exception>
    public Task<bool> AmILeaderAsync(int partitionId, CancellationToken cancellationToken = default)
    {
        ulong partition = Partition(partitionId);
        SafeNodeHandle node = RunningNode();
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<bool>(cancellationToken);
        }
        SynodException.ThrowIfFailed(NativeMethods.NodeIsLeader(node, partition, out int isLeader), "synod_node_is_leader");
        return Task.FromResult(isLeader != 0);
    }

    /// <summary>The leader of the partition as this node knows it; 0 when none is known.</summary>
    /// <exception cref="SynodException">For example <see cref="SynodStatus.UnknownPartition"/>.</exception>
    public ulong GetLeader(int partitionId)
    {
        ulong partition = Partition(partitionId);
        SynodException.ThrowIfFailed(NativeMethods.NodeLeader(RunningNode(), partition, out ulong leader), "synod_node_leader");
        return leader;
    }

    /// <summary>Waits until some node is known to lead the partition and returns its id.</summary>
    /// <exception cref="TimeoutException">No leader became known within <paramref name="timeout"/>.</exception>
    /// <exception cref="SynodException">For example <see cref="SynodStatus.UnknownPartition"/>, or
    /// <see cref="SynodStatus.ShuttingDown"/> when the node is disposed while waiting.</exception>
    public async Task<ulong> WaitForLeaderAsync(int partitionId, TimeSpan timeout, CancellationToken cancellationToken = default)
    {
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource<ulong> waiter = AddLeaderWaiter(partitionId);
        try
        {
            // Checked after registering, so a change between the two is not missed.
            ulong leader = GetLeader(partitionId);
            return leader != 0 ? leader : await waiter.Task.WaitAsync(timeout, cancellationToken).ConfigureAwait(false);
        }
        finally
        {
            RemoveLeaderWaiter(partitionId, waiter);
        }
    }

    /// <summary>
    /// Proposes an entry of <paramref name="type"/> to the partition and waits until it commits.
    /// </summary>
    /// <param name="partitionId">A user partition, 1..UserPartitions.</param>
    /// <param name="type">The entry's log type, given back as <see cref="RaftLog.Type"/> on every node
    /// of any binding: a string (converts implicitly; non-empty, at most 255 UTF-8 bytes) or
    /// <see cref="LogType.Of(uint)"/> a number.</param>
    /// <param name="data">The entry's bytes, at most <see cref="RaftConfiguration.MaxPayloadBytes"/>; copied before the call returns.</param>
    /// <param name="cancellationToken">Cancels the wait (the entry may still commit).</param>
    /// <returns>Status <see cref="SynodStatus.Ok"/> with the entry's index and term, or why it did not commit
    /// (<see cref="SynodStatus.NotLeader"/> with <see cref="ReplicationResult.LeaderHint"/>, NoLeader,
    /// UnknownPartition, PayloadTooLarge, QueueFull, Timeout, Dropped, ShuttingDown...).</returns>
    /// <exception cref="ArgumentException"><paramref name="type"/> is null, or a string that is empty or too long, or the partition is negative.</exception>
    public Task<ReplicationResult> ReplicateLogsAsync(
        int partitionId, LogType type, ReadOnlyMemory<byte> data, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(type);
        ulong partition = Partition(partitionId);
        SafeNodeHandle node = RunningNode();
        if (cancellationToken.IsCancellationRequested)
        {
            return Task.FromCanceled<ReplicationResult>(cancellationToken);
        }
        if (data.Length > _maxPayloadBytes)
        {
            return Task.FromResult(new ReplicationResult(SynodStatus.PayloadTooLarge, 0, 0, 0));
        }

        int length = LogTypeCodec.EncodedLength(type, data.Length);
        byte[] framed = ArrayPool<byte>.Shared.Rent(length);
        (ulong tag, TaskCompletionSource<NativeResult> pending) = AddPending();
        int status;
        try
        {
            LogTypeCodec.Write(type, data.Span, framed);
            status = Replicate(node, partition, type.EntryType, framed, length, tag);
        }
        catch
        {
            _pending.TryRemove(tag, out _);
            throw;
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(framed);
        }

        if (status != 0)
        {
            _pending.TryRemove(tag, out _);
            ulong hint = status == (int)SynodStatus.NotLeader ? LeaderOrZero(node, partition) : 0;
            return Task.FromResult(new ReplicationResult((SynodStatus)status, 0, 0, hint));
        }
        return AwaitReplication(tag, pending, cancellationToken);
    }

    /// <summary>
    /// Asks for a linearizable read of the partition. When the task completes, every entry
    /// through the returned index has been passed to <see cref="OnReplicationReceived"/> on this
    /// node, so the host may serve the read from its own state.
    /// </summary>
    /// <remarks>Do not block on this task inside an event handler: its completion is queued behind that handler.</remarks>
    /// <exception cref="NotLeaderException">This node does not lead the partition.</exception>
    /// <exception cref="SynodException">Any other refusal or failure (NoLeader, UnknownPartition, Timeout, ShuttingDown...).</exception>
    public Task<long> ReadIndexAsync(int partitionId, CancellationToken cancellationToken = default) =>
        IndexRequestAsync(partitionId, NativeMethods.NodeReadIndex, "synod_node_read_index", "read index", cancellationToken);

    /// <summary>
    /// Asks this node, the partition's leader, to hand leadership to <paramref name="targetNodeId"/>,
    /// and waits (at most the request timeout) for the outcome.
    /// </summary>
    /// <returns>Whether <paramref name="targetNodeId"/> leads the partition afterwards.</returns>
    /// <exception cref="NotLeaderException">This node does not lead the partition.</exception>
    /// <exception cref="SynodException">Another refusal, for example <see cref="SynodStatus.TransferInProgress"/>.</exception>
    public async Task<bool> TransferLeadershipAsync(int partitionId, ulong targetNodeId, CancellationToken cancellationToken = default)
    {
        ulong partition = Partition(partitionId);
        SafeNodeHandle node = RunningNode();
        cancellationToken.ThrowIfCancellationRequested();
        TaskCompletionSource<ulong> waiter = AddLeaderWaiter(partitionId);
        try
        {
            int status = NativeMethods.NodeTransferLeadership(node, partition, targetNodeId);
            if (status != 0)
            {
                throw Refusal(status, partitionId, node, "synod_node_transfer_leadership");
            }
            try
            {
                return await waiter.Task.WaitAsync(_requestTimeout, cancellationToken).ConfigureAwait(false) == targetNodeId;
            }
            catch (TimeoutException)
            {
                // An abandoned transfer may end without a leader change: the current leader tells.
                return GetLeader(partitionId) == targetNodeId;
            }
        }
        finally
        {
            RemoveLeaderWaiter(partitionId, waiter);
        }
    }

    /// <summary>
    /// Asks for a snapshot of the partition now rather than by policy: the
    /// <see cref="SnapshotHandler"/> saves it (<see cref="SnapshotReason.Requested"/>), and the
    /// task completes with the snapshot's index once it is saved and the log compacted behind it.
    /// </summary>
    /// <exception cref="SynodException"><see cref="SynodStatus.Storage"/> when the host or the store
    /// failed it; UnknownPartition, ShuttingDown...</exception>
    public Task<long> RequestSnapshotAsync(int partitionId, CancellationToken cancellationToken = default) =>
        IndexRequestAsync(partitionId, NativeMethods.NodeRequestSnapshot, "synod_node_request_snapshot", "snapshot", cancellationToken);

    /// <summary>
    /// Proposes a new user partition to the partition map held by partition 0 (this node must lead
    /// it): <see cref="PartitionRoutingMode.Unrouted"/> (addressed by id) or
    /// <see cref="PartitionRoutingMode.HashRange"/> owning the key hashes [<paramref name="lo"/>,
    /// <paramref name="hi"/>]. <paramref name="expectedVersion"/> is the map version the caller read
    /// (<see cref="GetPartitionMap"/>), or 0 to apply regardless. Completes once the change is
    /// applied, with the new partition's id; every voter then runs it.
    /// </summary>
    /// <exception cref="NotLeaderException">This node does not lead partition 0 (the hint names its leader).</exception>
    /// <exception cref="PartitionMapException">The map refused the change: StaleMapVersion, MapConflict
    /// (an overlapping range...), InvalidArgument...</exception>
    /// <exception cref="SynodException">Another refusal or failure (lo above hi, Timeout, ShuttingDown...).</exception>
    public Task<PartitionMapChange> CreatePartitionAsync(PartitionRoutingMode mode = PartitionRoutingMode.Unrouted,
        ulong lo = 0, ulong hi = 0, ulong expectedVersion = 0, CancellationToken cancellationToken = default) =>
        MapChangeAsync((node, tag) => NativeMethods.NodeCreatePartition(node, (int)mode, lo, hi, expectedVersion, tag),
            "synod_node_create_partition", cancellationToken);

    /// <summary>
    /// Proposes removing the unrouted partition <paramref name="partitionId"/> from the map (ids are
    /// never reused); once applied, every voter stops it and deletes its storage.
    /// </summary>
    /// <exception cref="NotLeaderException">This node does not lead partition 0.</exception>
    /// <exception cref="PartitionMapException">The map refused it: UnknownPartition, StaleMapVersion,
    /// MapConflict (a hash-range partition: merge it instead)...</exception>
    /// <exception cref="SynodException">SystemPartition for partition 0, and other refusals.</exception>
    public Task<PartitionMapChange> RemovePartitionAsync(int partitionId, ulong expectedVersion = 0,
        CancellationToken cancellationToken = default)
    {
        ulong partition = Partition(partitionId);
        return MapChangeAsync((node, tag) => NativeMethods.NodeRemovePartition(node, partition, expectedVersion, tag),
            "synod_node_remove_partition", cancellationToken);
    }

    /// <summary>The partition map as this node has applied it (committed, possibly behind the leader of partition 0).</summary>
    public PartitionMap GetPartitionMap()
    {
        return PartitionMap.Parse(ReadNativeText(NativeMethods.NodePartitionMapJson, "synod_node_partition_map_json"));
    }

    /// <summary>Where <paramref name="key"/> goes in this node's map (bindings/ROUTING.md), with the
    /// generation to carry; null when no partition owns it.</summary>
    public unsafe PartitionRoute? Route(ReadOnlySpan<byte> key)
    {
        SafeNodeHandle node = RunningNode();
        int status;
        ulong partition, generation;
        int state;
        fixed (byte* p = key)
        {
            status = NativeMethods.NodeRoute(node, p, (nuint)key.Length, out partition, out generation, out state);
        }
        return RouteResult(status, partition, generation, state, "synod_node_route");
    }

    /// <summary>Where the text key <paramref name="key"/> (hashed as UTF-8) goes; null when no partition owns it.</summary>
    public PartitionRoute? Route(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        return Route(System.Text.Encoding.UTF8.GetBytes(key));
    }

    /// <summary>Where a key hash (XXH64, seed 0) goes; null when no partition owns it.</summary>
    public PartitionRoute? RouteHash(ulong keyHash)
    {
        int status = NativeMethods.NodeRouteHash(RunningNode(), keyHash, out ulong partition, out ulong generation, out int state);
        return RouteResult(status, partition, generation, state, "synod_node_route_hash");
    }

    private static PartitionRoute? RouteResult(int status, ulong partition, ulong generation, int state, string function)
    {
        if (status == (int)SynodStatus.UnknownPartition)
        {
            return null;
        }
        SynodException.ThrowIfFailed(status, function);
        return new PartitionRoute(checked((int)partition), generation, (PartitionMapState)state);
    }

    // A change of the partition map: made with `call(node, tag)`, answered by a
    // SYNOD_EVENT_PARTITION_MAP.
    private async Task<PartitionMapChange> MapChangeAsync(Func<SafeNodeHandle, ulong, int> call, string function,
        CancellationToken cancellationToken)
    {
        SafeNodeHandle node = RunningNode();
        cancellationToken.ThrowIfCancellationRequested();
        (ulong tag, TaskCompletionSource<NativeResult> pending) = AddPending();
        int status;
        try
        {
            status = call(node, tag);
        }
        catch
        {
            _pending.TryRemove(tag, out _);
            throw;
        }
        if (status != 0)
        {
            _pending.TryRemove(tag, out _);
            throw Refusal(status, 0, node, function);
        }
        NativeResult r = await WaitPending(tag, pending, cancellationToken).ConfigureAwait(false);
        if (r.Status == (int)SynodStatus.NotLeader)
        {
            throw new NotLeaderException(0, r.LeaderHint);
        }
        if (r.Status != 0)
        {
            string text = NativeMethods.StatusText(r.Status);
            string message = $"node {NodeId}: {function}: {text}" +
                             (r.Reason is null ? string.Empty : $" ({r.Reason}; map version {r.Term})");
            throw new PartitionMapException((SynodStatus)r.Status, message, r.Reason, r.Term);
        }
        return new PartitionMapChange(checked((int)r.Partition), r.Term, (long)r.Index);
    }

    /// <summary>The host has durably applied every entry of the partition through <paramref name="index"/>;
    /// after a restart only entries above it are delivered again.</summary>
    /// <exception cref="SynodException"><see cref="SynodStatus.InvalidArgument"/> for an index not delivered yet, and other failures.</exception>
    public void ReportApplied(int partitionId, long index)
    {
        ulong partition = Partition(partitionId);
        ArgumentOutOfRangeException.ThrowIfNegative(index);
        SynodException.ThrowIfFailed(NativeMethods.NodeReportApplied(RunningNode(), partition, (ulong)index), "synod_node_report_applied");
    }

    /// <summary>The node's state (roles, terms, indexes per partition, transport counters).</summary>
    public RaftNodeStatus GetStatus()
    {
        return RaftNodeStatus.Parse(ReadNativeText(NativeMethods.NodeStatusJson, "synod_node_status_json"));
    }

    /// <summary>The node's metrics (README.md, "Metrics") in the Prometheus text exposition
    /// format 0.0.4, to serve with the content type <c>text/plain; version=0.0.4; charset=utf-8</c>.
    /// The same values reach .NET's metrics through the Meter <see cref="SynodMetrics.MeterName"/>.</summary>
    public string MetricsText()
    {
        return ReadNativeText(NativeMethods.NodeMetricsText, "synod_node_metrics_text");
    }

    private delegate int NativeTextRead(SafeNodeHandle node, out IntPtr text, out nuint length);

    // Calls a synod_node_*_json / _text function and copies the text it allocated, then frees it.
    private string ReadNativeText(NativeTextRead read, string function)
    {
        SynodException.ThrowIfFailed(read(RunningNode(), out IntPtr text, out nuint length), function);
        try
        {
            return Marshal.PtrToStringUTF8(text, checked((int)length));
        }
        finally
        {
            NativeMethods.Free(text);
        }
    }

    /// <summary>How the Meter observes this node (null before Start).</summary>
    internal SynodMetrics.Source? MetricsSource => _metrics;

    /// <summary>synod_node_metrics_json, or null once the node is no longer running.</summary>
    internal string? TryMetricsJson()
    {
        SafeNodeHandle? node = Volatile.Read(ref _state) == Running ? _node : null;
        if (node is null)
        {
            return null;
        }
        try
        {
            if (NativeMethods.NodeMetricsJson(node, out IntPtr json, out nuint length) != 0)
            {
                return null;
            }
            try
            {
                return Marshal.PtrToStringUTF8(json, checked((int)length));
            }
            finally
            {
                NativeMethods.Free(json);
            }
        }
        catch (ObjectDisposedException)
        {
            // Freed between the check and the call.
            return null;
        }
    }

    /// <summary>The partitions this node hosts, system partition 0 included, ascending.</summary>
    public unsafe IReadOnlyList<int> GetPartitions()
    {
        SafeNodeHandle node = RunningNode();
        // The set may grow between the two calls; ask again until the buffer was large enough.
        nuint capacity = 0;
        while (true)
        {
            ulong[] ids = new ulong[(int)capacity];
            nuint count;
            fixed (ulong* p = ids)
            {
                SynodException.ThrowIfFailed(NativeMethods.NodePartitions(node, p, capacity, out count), "synod_node_partitions");
            }
            if (count <= capacity)
            {
                return ids.Take((int)count).Select(id => (int)id).ToArray();
            }
            capacity = count;
        }
    }

    /// <summary>With gRPC: the port the node listens on (useful after listening on port 0).</summary>
    /// <exception cref="SynodException">The node does not use gRPC.</exception>
    public int ListenPort
    {
        get
        {
            SynodException.ThrowIfFailed(NativeMethods.NodeListenPort(RunningNode(), out int port), "synod_node_listen_port");
            return port;
        }
    }

    /// <summary>With gRPC: adds or changes another node's "host:port" while running.</summary>
    /// <exception cref="SynodException">The node does not use gRPC, or the address is refused.</exception>
    public void SetPeerAddress(ulong nodeId, string address)
    {
        ArgumentException.ThrowIfNullOrEmpty(address);
        SynodException.ThrowIfFailed(NativeMethods.NodeSetPeerAddress(RunningNode(), nodeId, address), "synod_node_set_peer_address");
    }

    /// <summary>
    /// Stops the node, completes every pending request (<see cref="SynodStatus.ShuttingDown"/>),
    /// delivers the events already taken from the engine, ends both threads and frees the node.
    /// Safe to call more than once and from an event handler.
    /// </summary>
    public ValueTask DisposeAsync()
    {
        lock (_lifecycle)
        {
            _disposal ??= DisposeCoreAsync();
            return new ValueTask(_disposal);
        }
    }

    private async Task DisposeCoreAsync()
    {
        // Decided before the first await: the continuation may resume on another thread.
        bool fromHandler = Thread.CurrentThread == _dispatchThread;
        Volatile.Write(ref _state, Stopped);
        if (_metrics is not null)
        {
            SynodMetrics.Unregister(_metrics);
        }
        _config?.Dispose();
        _stopping.Cancel();
        if (_node is null)
        {
            _dispatch.Dispose();
            return;
        }
        // Also finishes, as failed, every snapshot a handler has not finished.
        NativeMethods.NodeStop(_node);
        await _pollExited.Task.ConfigureAwait(false);
        // A handler disposing its own node must not wait for itself.
        if (!fromHandler)
        {
            await _dispatchExited.Task.ConfigureAwait(false);
        }
        _node.Dispose();
    }

    // ---------------------------------------------------------------- poll thread

    private unsafe void PollLoop()
    {
        SafeNodeHandle node = _node!;
        bool referenced = false;
        SynodEvent* events = (SynodEvent*)NativeMemory.Alloc(PollBatch, (nuint)sizeof(SynodEvent));
        try
        {
            // Held for the whole loop so the node cannot be freed while lent payloads are read.
            node.DangerousAddRef(ref referenced);
            while (true)
            {
                int count = NativeMethods.NodePoll(node, events, PollBatch, PollTimeoutMs);
                if (count == (int)SynodStatus.ShuttingDown)
                {
                    break;
                }
                if (count < 0)
                {
                    _logger.LogError("node {NodeId}: synod_node_poll failed: {Error}; stopping the node",
                        NodeId, SynodException.FromNative(count, "synod_node_poll").Message);
                    NativeMethods.NodeStop(node);
                    break;
                }
                for (int i = 0; i < count; i++)
                {
                    try
                    {
                        Handle(in events[i]);
                    }
                    catch (Exception ex)
                    {
                        _logger.LogError(ex, "node {NodeId}: failed to handle an event of type {Type}", NodeId, events[i].Type);
                    }
                }
            }
        }
        finally
        {
            AbandonAll();
            NativeMemory.Free(events);
            if (referenced)
            {
                node.DangerousRelease();
            }
            _dispatch.CompleteAdding();
            _pollExited.TrySetResult();
        }
    }

    private unsafe void Handle(in SynodEvent e)
    {
        switch (e.Type)
        {
            case SynodEventType.Entry:
            {
                // The payload is only lent until the next poll: copy it now.
                (LogType type, byte[] data) = LogTypeCodec.Read(new ReadOnlySpan<byte>(e.Data, checked((int)e.Len)), e.EntryType);
                var log = new RaftLog((long)e.Index, (long)e.Term, type, data);
                int partition = (int)e.Partition;
                _dispatch.Add(() => OnReplicationReceived?.Invoke(partition, log));
                break;
            }
            case SynodEventType.Replicated:
                if (_pending.TryRemove(e.Tag, out TaskCompletionSource<NativeResult>? replicated))
                {
                    replicated.TrySetResult(new NativeResult(e.Status, e.Index, e.Term, e.LeaderHint));
                }
                break;
            case SynodEventType.ReadIndex:
                if (_pending.TryRemove(e.Tag, out TaskCompletionSource<NativeResult>? read))
                {
                    // Completed behind the entries already queued, so the caller sees them applied.
                    var result = new NativeResult(e.Status, e.Index, e.Term, e.LeaderHint);
                    _dispatch.Add(() => read.TrySetResult(result));
                }
                break;
            case SynodEventType.SnapshotSave:
            {
                var request = new SnapshotSaveRequest((int)e.Partition, (long)e.Index, (SnapshotReason)e.EntryType);
                ulong handle = e.Tag;
                _dispatch.Add(() => RunSnapshot(handle, $"save {request}",
                    (handler, node, token) => SaveSnapshotAsync(handler, node, handle, request, token)));
                break;
            }
            case SynodEventType.SnapshotInstall:
            {
                ulong handle = e.Tag;
                int partition = (int)e.Partition;
                long index = (long)e.Index, term = (long)e.Term;
                bool fromLeader = e.EntryType != 0;
                _dispatch.Add(() => RunSnapshot(handle, $"install of partition {partition} at {index}",
                    (handler, node, token) => InstallSnapshotAsync(handler, node, handle, (partition, index, term, fromLeader), token)));
                break;
            }
            case SynodEventType.SnapshotDone:
                if (_pending.TryRemove(e.Tag, out TaskCompletionSource<NativeResult>? snapshot))
                {
                    snapshot.TrySetResult(new NativeResult(e.Status, e.Index, e.Term, e.LeaderHint));
                }
                break;
            case SynodEventType.PartitionMap:
                if (_pending.TryRemove(e.Tag, out TaskCompletionSource<NativeResult>? mapChange))
                {
                    string? reason = e.Len == 0 ? null : System.Text.Encoding.UTF8.GetString(e.Data, checked((int)e.Len));
                    mapChange.TrySetResult(new NativeResult(e.Status, e.Index, e.Term, e.LeaderHint, e.Partition, reason));
                }
                break;
            case SynodEventType.LeaderChanged:
            {
                int partition = (int)e.Partition;
                ulong leader = e.LeaderHint;
                _logger.LogDebug("node {NodeId}: partition {Partition} leader {Leader} in term {Term}", NodeId, partition, leader, e.Term);
                if (leader != 0)
                {
                    CompleteLeaderWaiters(partition, leader);
                }
                _dispatch.Add(() => OnLeaderChanged?.Invoke(partition, leader));
                break;
            }
            case SynodEventType.Log:
            {
                LogLevel level = e.Status switch
                {
                    0 => LogLevel.Debug,
                    1 => LogLevel.Information,
                    2 => LogLevel.Warning,
                    _ => LogLevel.Error,
                };
                if (_logger.IsEnabled(level))
                {
                    string text = e.Len == 0 ? string.Empty : Encoding.UTF8.GetString(e.Data, checked((int)e.Len));
                    bool scoped = (e.EntryType & SynodLogFlags.HasPartition) != 0;
                    var state = new EngineLogState(NodeId, text,
                        scoped ? (int)e.Partition : null,
                        scoped && (e.EntryType & SynodLogFlags.HasTerm) != 0 ? e.Term : null);
                    _logger.Log(level, default, state, null, EngineLogState.Format);
                }
                break;
            }
            default:
                // The ABI may add event types; an older binding skips them.
                break;
        }
    }

    private void AbandonAll()
    {
        var shuttingDown = new NativeResult((int)SynodStatus.ShuttingDown, 0, 0, 0);
        foreach (ulong tag in _pending.Keys)
        {
            if (_pending.TryRemove(tag, out TaskCompletionSource<NativeResult>? pending))
            {
                pending.TrySetResult(shuttingDown);
            }
        }
        lock (_leaderWaiters)
        {
            foreach (TaskCompletionSource<ulong> waiter in _leaderWaiters.Values.SelectMany(w => w))
            {
                waiter.TrySetException(new SynodException(SynodStatus.ShuttingDown, $"node {NodeId} was stopped"));
            }
            _leaderWaiters.Clear();
        }
    }

    // ---------------------------------------------------------------- dispatch thread

    private void DispatchLoop()
    {
        try
        {
            foreach (Action item in _dispatch.GetConsumingEnumerable())
            {
                try
                {
                    item();
                }
                catch (Exception ex)
                {
                    _logger.LogError(ex, "node {NodeId}: an event handler threw", NodeId);
                }
            }
        }
        finally
        {
            _dispatch.Dispose();
            _dispatchExited.TrySetResult();
        }
    }

    // On the dispatch thread: runs a save or install to its end (so that no other handler runs
    // meanwhile, and a save sees the state at its index), then finishes the handle with its outcome.
    private void RunSnapshot(ulong handle, string what, Func<ISnapshotHandler, SafeNodeHandle, CancellationToken, Task> run)
    {
        SafeNodeHandle node = _node!;
        ISnapshotHandler? handler = SnapshotHandler;
        Exception? failure = null;
        if (handler is null)
        {
            failure = new InvalidOperationException($"node {NodeId} has no SnapshotHandler for the {what}");
            _logger.LogWarning("node {NodeId}: {Failure}", NodeId, failure.Message);
        }
        else
        {
            try
            {
                run(handler, node, _stopping.Token).GetAwaiter().GetResult();
            }
            catch (Exception ex)
            {
                failure = ex;
                _logger.LogError(ex, "node {NodeId}: the snapshot handler failed the {What}", NodeId, what);
            }
        }
        int status = failure is null ? 0 : (int)SnapshotStreams.StatusOf(failure);
        if (NativeMethods.SnapshotFinish(node, handle, status, failure?.Message) != 0)
        {
            // The node stopped meanwhile and finished it already, as failed.
            _logger.LogDebug("node {NodeId}: the {What} was finished by the node's stop", NodeId, what);
        }
    }

    private static async Task SaveSnapshotAsync(ISnapshotHandler handler, SafeNodeHandle node, ulong handle,
        SnapshotSaveRequest request, CancellationToken cancellationToken)
    {
        await using var destination = new SnapshotWriteStream(node, handle);
        await handler.SaveAsync(request, destination, cancellationToken).ConfigureAwait(false);
    }

    private static async Task InstallSnapshotAsync(ISnapshotHandler handler, SafeNodeHandle node, ulong handle,
        (int Partition, long Index, long Term, bool FromLeader) at, CancellationToken cancellationToken)
    {
        SnapshotStreams.ThrowIfFailed(NativeMethods.SnapshotSize(node, handle, out ulong length), "synod_snapshot_size");
        var request = new SnapshotInstallRequest(at.Partition, at.Index, at.Term, at.FromLeader, (long)length);
        await using var source = new SnapshotReadStream(node, handle, (long)length);
        await handler.InstallAsync(request, source, cancellationToken).ConfigureAwait(false);
    }

    // A request whose result event carries an index: made with `call(node, partition, tag)`,
    // refused or failed with an exception naming `function` or `operation`.
    private async Task<long> IndexRequestAsync(int partitionId, Func<SafeNodeHandle, ulong, ulong, int> call,
        string function, string operation, CancellationToken cancellationToken)
    {
        ulong partition = Partition(partitionId);
        SafeNodeHandle node = RunningNode();
        cancellationToken.ThrowIfCancellationRequested();
        (ulong tag, TaskCompletionSource<NativeResult> pending) = AddPending();
        int status;
        try
        {
            status = call(node, partition, tag);
        }
        catch
        {
            _pending.TryRemove(tag, out _);
            throw;
        }
        if (status != 0)
        {
            _pending.TryRemove(tag, out _);
            throw Refusal(status, partitionId, node, function);
        }
        NativeResult result = await WaitPending(tag, pending, cancellationToken).ConfigureAwait(false);
        if (result.Status != 0)
        {
            throw Outcome(result, partitionId, operation);
        }
        return (long)result.Index;
    }

    // ---------------------------------------------------------------- helpers

    private static unsafe int Replicate(SafeNodeHandle node, ulong partition, uint type, byte[] framed, int length, ulong tag)
    {
        fixed (byte* p = framed)
        {
            return NativeMethods.NodeReplicate(node, partition, type, p, (nuint)length, tag);
        }
    }

    private async Task<ReplicationResult> AwaitReplication(ulong tag, TaskCompletionSource<NativeResult> pending, CancellationToken cancellationToken)
    {
        NativeResult r = await WaitPending(tag, pending, cancellationToken).ConfigureAwait(false);
        return r.Status == 0
            ? new ReplicationResult(SynodStatus.Ok, (long)r.Index, (long)r.Term, 0)
            : new ReplicationResult((SynodStatus)r.Status, 0, 0, r.LeaderHint);
    }

    private async Task<NativeResult> WaitPending(ulong tag, TaskCompletionSource<NativeResult> pending, CancellationToken cancellationToken)
    {
        try
        {
            return await pending.Task.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            // The engine's result, if it still comes, finds no one waiting and is dropped.
            _pending.TryRemove(tag, out _);
            throw;
        }
    }

    private (ulong Tag, TaskCompletionSource<NativeResult> Pending) AddPending()
    {
        ulong tag = (ulong)Interlocked.Increment(ref _nextTag);
        var pending = new TaskCompletionSource<NativeResult>(TaskCreationOptions.RunContinuationsAsynchronously);
        // Registered before the request is made: its result may be polled before the call returns.
        _pending[tag] = pending;
        return (tag, pending);
    }

    private TaskCompletionSource<ulong> AddLeaderWaiter(int partitionId)
    {
        Partition(partitionId);
        RunningNode();
        var waiter = new TaskCompletionSource<ulong>(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_leaderWaiters)
        {
            if (!_leaderWaiters.TryGetValue(partitionId, out List<TaskCompletionSource<ulong>>? list))
            {
                _leaderWaiters[partitionId] = list = new List<TaskCompletionSource<ulong>>();
            }
            list.Add(waiter);
        }
        return waiter;
    }

    private void RemoveLeaderWaiter(int partitionId, TaskCompletionSource<ulong> waiter)
    {
        lock (_leaderWaiters)
        {
            if (_leaderWaiters.TryGetValue(partitionId, out List<TaskCompletionSource<ulong>>? list) &&
                list.Remove(waiter) && list.Count == 0)
            {
                _leaderWaiters.Remove(partitionId);
            }
        }
    }

    private void CompleteLeaderWaiters(int partitionId, ulong leader)
    {
        List<TaskCompletionSource<ulong>>? list;
        lock (_leaderWaiters)
        {
            if (!_leaderWaiters.Remove(partitionId, out list))
            {
                return;
            }
        }
        foreach (TaskCompletionSource<ulong> waiter in list)
        {
            waiter.TrySetResult(leader);
        }
    }

    private static ulong LeaderOrZero(SafeNodeHandle node, ulong partition) =>
        NativeMethods.NodeLeader(node, partition, out ulong leader) == 0 ? leader : 0;

    // A request the engine refused on the spot: the thread's last error explains it, so it
    // is read before any other synod_ call (the leader look-up) replaces it.
    private static SynodException Refusal(int status, int partitionId, SafeNodeHandle node, string operation)
    {
        SynodException failure = SynodException.FromNative(status, operation);
        return status == (int)SynodStatus.NotLeader
            ? new NotLeaderException(partitionId, LeaderOrZero(node, (ulong)partitionId))
            : failure;
    }

    // A request that failed later, as its result event reported.
    private SynodException Outcome(NativeResult result, int partitionId, string operation) =>
        result.Status == (int)SynodStatus.NotLeader
            ? new NotLeaderException(partitionId, result.LeaderHint)
            : new SynodException((SynodStatus)result.Status,
                $"node {NodeId}, partition {partitionId}: {operation}: {NativeMethods.StatusText(result.Status)}");

    private static ulong Partition(int partitionId)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(partitionId);
        return (ulong)partitionId;
    }

    private SafeNodeHandle RunningNode()
    {
        switch (Volatile.Read(ref _state))
        {
            case Running:
                return _node!;
            case Created:
                throw new InvalidOperationException("call Start() first");
            default:
                throw new ObjectDisposedException(nameof(RaftNode), $"node {NodeId} was disposed or failed to start");
        }
    }

    private readonly record struct NativeResult(int Status, ulong Index, ulong Term, ulong LeaderHint,
        ulong Partition = 0, string? Reason = null);
}
