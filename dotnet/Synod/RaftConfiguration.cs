using Synod.Interop;

namespace Synod;

/// <summary>Where a node keeps its log.</summary>
public enum StorageEngine
{
    /// <summary>In memory: nothing survives the node. The default.</summary>
    Memory,
    /// <summary>RocksDB in <see cref="RaftConfiguration.DataDirectory"/>.</summary>
    RocksDb,
    /// <summary>SQLite in <see cref="RaftConfiguration.DataDirectory"/>.</summary>
    Sqlite,
}

/// <summary>How the host keeps its state (see <see cref="ISnapshotHandler"/>).</summary>
public enum StateMachineModel
{
    /// <summary>In memory, rebuilt on restart from the latest snapshot and the entries above
    /// it. The node asks for snapshots by <see cref="RaftConfiguration.SnapshotEveryEntries"/>
    /// and <see cref="RaftConfiguration.SnapshotEveryBytes"/> and compacts the log behind them.
    /// The default.</summary>
    InMemory = 0,
    /// <summary>In the host's own database, whose progress it reports with
    /// <see cref="RaftNode.ReportApplied"/>. No periodic snapshots: the log is compacted behind
    /// that floor, and the host exports its state only when a follower needs it.</summary>
    Durable = 1,
}

/// <summary>
/// Everything a <see cref="RaftNode"/> is made from. The defaults are the engine's. Exactly
/// one transport is chosen: an in-process <see cref="Network"/>, or gRPC with
/// <see cref="GrpcListenAddress"/> and <see cref="PeerAddresses"/>.
/// </summary>
public sealed class RaftConfiguration
{
    /// <summary>The largest <see cref="MaxPayloadBytes"/>: the engine's 64 MiB less room for the type frame.</summary>
    public const int MaxPayloadLimit = 64 * 1024 * 1024 - LogTypeCodec.MaxOverhead;

    /// <summary>This node's id: nonzero, unique in the cluster. Required.</summary>
    public ulong NodeId { get; set; }

    /// <summary>The cluster's id (default 1); nodes refuse traffic from another cluster.</summary>
    public ulong ClusterId { get; set; } = 1;

    /// <summary>The voters of a new cluster, this node included. Used only when the store is empty.</summary>
    public IList<ulong> Members { get; set; } = new List<ulong>();

    /// <summary>User partitions, numbered 1..UserPartitions (default 1). Partition 0 is the engine's.</summary>
    public int UserPartitions { get; set; } = 1;

    /// <summary>Raft tick interval (default 10 ms, whole milliseconds).</summary>
    public TimeSpan TickInterval { get; set; } = TimeSpan.FromMilliseconds(10);

    /// <summary>Election timeout in ticks (default 10); must exceed <see cref="HeartbeatTicks"/>.</summary>
    public int ElectionTicks { get; set; } = 10;

    /// <summary>Heartbeat interval in ticks (default 1).</summary>
    public int HeartbeatTicks { get; set; } = 1;

    /// <summary>The largest data of one entry, in bytes (default 1 MiB, at most <see cref="MaxPayloadLimit"/>).
    /// The type string travels beside it and is not counted.</summary>
    public int MaxPayloadBytes { get; set; } = 1024 * 1024;

    /// <summary>Requests queued per partition before <see cref="SynodStatus.QueueFull"/> (default 4096).</summary>
    public int MaxQueuedRequests { get; set; } = 4096;

    /// <summary>Events the node may hold for the binding before it pushes back (default
    /// 65536, at least 2): new requests then fail with <see cref="SynodStatus.QueueFull"/>
    /// and committed entries wait, none lost, until the backlog has halved.</summary>
    public int MaxPendingEvents { get; set; } = 65536;

    /// <summary>How long a request may wait for its result before <see cref="SynodStatus.Timeout"/> (default 5 s).</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>Worker threads driving the partitions (default 0: one per core).</summary>
    public int WorkerThreads { get; set; }

    /// <summary>Seed of the node's randomness; 0 (the default) picks one.</summary>
    public ulong Seed { get; set; }

    /// <summary>The log store (default <see cref="StorageEngine.Memory"/>).</summary>
    public StorageEngine Storage { get; set; } = StorageEngine.Memory;

    /// <summary>The data directory of the durable engines (created if missing, locked while in use).</summary>
    public string? DataDirectory { get; set; }

    /// <summary>Whether each write is synced before it is acknowledged (default true). False is for tests only.</summary>
    public bool Sync { get; set; } = true;

    /// <summary>How the host keeps its state (default <see cref="StateMachineModel.InMemory"/>).</summary>
    public StateMachineModel StateMachine { get; set; } = StateMachineModel.InMemory;

    /// <summary>In-memory model: a snapshot after this many entries since the last one
    /// (default 0: never by count). Must be 0 with the durable model.</summary>
    public long SnapshotEveryEntries { get; set; }

    /// <summary>In-memory model: a snapshot after this many bytes of entry data since the last
    /// one (default 0: never by size). Must be 0 with the durable model.</summary>
    public long SnapshotEveryBytes { get; set; }

    /// <summary>Entries kept below a snapshot (or the applied floor) when the log is compacted,
    /// so a follower a little behind catches up from the log (default 1024).</summary>
    public long SnapshotKeepEntries { get; set; } = 1024;

    /// <summary>Transport: the in-process network. Excludes <see cref="GrpcListenAddress"/>.</summary>
    public RaftNetwork? Network { get; set; }

    /// <summary>Transport: gRPC listening on "host:port" (port 0 picks one, see <see cref="RaftNode.ListenPort"/>).</summary>
    public string? GrpcListenAddress { get; set; }

    /// <summary>Transport: REST (HTTP/1.1 with protobuf bodies) listening on "host:port", for
    /// where HTTP/2 cannot go. Excludes <see cref="Network"/> and <see cref="GrpcListenAddress"/>.</summary>
    public string? RestListenAddress { get; set; }

    /// <summary>TLS or mutual TLS for gRPC and REST. Excludes <see cref="SharedSecret"/>.</summary>
    public TlsSettings? Tls { get; set; }

    /// <summary>Plain-text connections with every batch signed by HMAC-SHA256 under this key
    /// (at least 16 bytes, the same on every node). With neither this nor <see cref="Tls"/>
    /// traffic is plain text, which the engine logs a warning about.</summary>
    public byte[]? SharedSecret { get; set; }

    /// <summary>With gRPC or REST: the "host:port" of the other nodes, by node id.</summary>
    public IDictionary<ulong, string> PeerAddresses { get; set; } = new Dictionary<ulong, string>();

    /// <summary>Builds the native configuration; throws <see cref="ArgumentException"/> or
    /// <see cref="SynodException"/> for a value the engine refuses.</summary>
    internal SafeConfigHandle ToNative()
    {
        if (NodeId == 0)
        {
            throw new ArgumentException("NodeId must be nonzero", nameof(NodeId));
        }
        if ((Network is null ? 0 : 1) + (GrpcListenAddress is null ? 0 : 1) + (RestListenAddress is null ? 0 : 1) > 1)
        {
            throw new ArgumentException("choose one transport: Network, GrpcListenAddress or RestListenAddress");
        }
        if (Tls is not null && SharedSecret is not null)
        {
            throw new ArgumentException("choose Tls or SharedSecret, not both");
        }
        if ((Storage != StorageEngine.Memory) && string.IsNullOrEmpty(DataDirectory))
        {
            throw new ArgumentException($"{Storage} storage needs a DataDirectory", nameof(DataDirectory));
        }
        ArgumentNullException.ThrowIfNull(Members);
        ArgumentNullException.ThrowIfNull(PeerAddresses);
        ArgumentOutOfRangeException.ThrowIfLessThan(UserPartitions, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(ElectionTicks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(HeartbeatTicks, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPayloadBytes, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(MaxPayloadBytes, MaxPayloadLimit);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxQueuedRequests, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(MaxPendingEvents, 2);
        ArgumentOutOfRangeException.ThrowIfNegative(WorkerThreads);
        ArgumentOutOfRangeException.ThrowIfNegative(SnapshotEveryEntries);
        ArgumentOutOfRangeException.ThrowIfNegative(SnapshotEveryBytes);
        ArgumentOutOfRangeException.ThrowIfNegative(SnapshotKeepEntries);
        if (!Enum.IsDefined(StateMachine))
        {
            throw new ArgumentOutOfRangeException(nameof(StateMachine), StateMachine, "not a StateMachineModel");
        }
        if (StateMachine == StateMachineModel.Durable && (SnapshotEveryEntries != 0 || SnapshotEveryBytes != 0))
        {
            throw new ArgumentException("the durable model takes no periodic snapshots: leave SnapshotEveryEntries and SnapshotEveryBytes 0",
                nameof(StateMachine));
        }
        uint tickMs = Milliseconds(TickInterval, nameof(TickInterval));
        uint timeoutMs = Milliseconds(RequestTimeout, nameof(RequestTimeout));

        int status = NativeMethods.ConfigNew(out SafeConfigHandle config);
        config.TrackCreated();
        try
        {
            SynodException.ThrowIfFailed(status, "synod_config_new");
            Set(NativeMethods.ConfigSetNodeId(config, NodeId), nameof(NodeId));
            Set(NativeMethods.ConfigSetClusterId(config, ClusterId), nameof(ClusterId));
            foreach (ulong member in Members)
            {
                Set(NativeMethods.ConfigAddMember(config, member), nameof(Members));
            }
            Set(NativeMethods.ConfigSetUserPartitions(config, (uint)UserPartitions), nameof(UserPartitions));
            Set(NativeMethods.ConfigSetTickIntervalMs(config, tickMs), nameof(TickInterval));
            Set(NativeMethods.ConfigSetElectionTicks(config, (uint)ElectionTicks), nameof(ElectionTicks));
            Set(NativeMethods.ConfigSetHeartbeatTicks(config, (uint)HeartbeatTicks), nameof(HeartbeatTicks));
            // The engine bounds the framed payload, so it gets room for the type frame; the
            // binding itself enforces MaxPayloadBytes on the user's data.
            Set(NativeMethods.ConfigSetMaxPayloadBytes(config, (nuint)(MaxPayloadBytes + LogTypeCodec.MaxOverhead)), nameof(MaxPayloadBytes));
            Set(NativeMethods.ConfigSetMaxQueuedRequests(config, (nuint)MaxQueuedRequests), nameof(MaxQueuedRequests));
            Set(NativeMethods.ConfigSetMaxPendingEvents(config, (nuint)MaxPendingEvents), nameof(MaxPendingEvents));
            Set(NativeMethods.ConfigSetRequestTimeoutMs(config, timeoutMs), nameof(RequestTimeout));
            Set(NativeMethods.ConfigSetWorkerThreads(config, (uint)WorkerThreads), nameof(WorkerThreads));
            Set(NativeMethods.ConfigSetSeed(config, Seed), nameof(Seed));
            string engine = Storage switch
            {
                StorageEngine.RocksDb => "rocksdb",
                StorageEngine.Sqlite => "sqlite",
                _ => "memory",
            };
            Set(NativeMethods.ConfigSetStorage(config, engine, Storage == StorageEngine.Memory ? null : DataDirectory), nameof(Storage));
            Set(NativeMethods.ConfigSetSync(config, Sync ? 1 : 0), nameof(Sync));
            Set(NativeMethods.ConfigSetStateMachine(config, (int)StateMachine), nameof(StateMachine));
            Set(NativeMethods.ConfigSetSnapshotPolicy(config, (ulong)SnapshotEveryEntries, (ulong)SnapshotEveryBytes,
                (ulong)SnapshotKeepEntries), nameof(SnapshotEveryEntries));
            if (Network is not null)
            {
                Set(NativeMethods.ConfigSetNetwork(config, Network.Handle), nameof(Network));
            }
            if (GrpcListenAddress is not null)
            {
                Set(NativeMethods.ConfigSetGrpc(config, GrpcListenAddress), nameof(GrpcListenAddress));
            }
            if (RestListenAddress is not null)
            {
                Set(NativeMethods.ConfigSetRest(config, RestListenAddress), nameof(RestListenAddress));
            }
            if (Tls is not null)
            {
                Set(NativeMethods.ConfigSetTls(config, Tls.CaFile, Tls.CertFile, Tls.KeyFile, Tls.Mutual ? 1 : 0), nameof(Tls));
            }
            if (SharedSecret is not null)
            {
                SetSharedSecret(config, SharedSecret);
            }
            foreach ((ulong peer, string address) in PeerAddresses)
            {
                ArgumentException.ThrowIfNullOrEmpty(address, nameof(PeerAddresses));
                Set(NativeMethods.ConfigSetPeerAddress(config, peer, address), nameof(PeerAddresses));
            }
            return config;
        }
        catch
        {
            config.Dispose();
            throw;
        }
    }

    private static void Set(int status, string setting)
    {
        if (status == (int)SynodStatus.InvalidArgument)
        {
            throw new ArgumentException($"the engine refused {setting}: {NativeMethods.LastErrorText()}", setting);
        }
        SynodException.ThrowIfFailed(status, $"setting {setting}");
    }

    private static uint Milliseconds(TimeSpan value, string name)
    {
        double ms = value.TotalMilliseconds;
        if (ms < 1 || ms > uint.MaxValue || ms != Math.Floor(ms))
        {
            throw new ArgumentOutOfRangeException(name, value, "must be a whole number of milliseconds, at least 1");
        }
        return (uint)ms;
    }

    private static unsafe void SetSharedSecret(SafeConfigHandle config, byte[] secret)
    {
        fixed (byte* bytes = secret)
        {
            Set(NativeMethods.ConfigSetSharedSecret(config, bytes, (nuint)secret.Length), nameof(SharedSecret));
        }
    }
}

/// <summary>TLS settings of the network transports: this node's certificate and key, and the
/// CA that peers' certificates must be signed by (PEM files). A peer's certificate must name
/// the host it is dialled at. With <paramref name="Mutual"/>, connecting nodes must present a
/// certificate of that CA too (mutual TLS).</summary>
public sealed record TlsSettings(string CaFile, string CertFile, string KeyFile, bool Mutual = false);
