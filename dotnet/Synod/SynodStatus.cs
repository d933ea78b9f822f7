namespace Synod;

/// <summary>The status codes of the C ABI (synod_status), with the same numeric values.</summary>
public enum SynodStatus
{
    /// <summary>Success (SYNOD_OK).</summary>
    Ok = 0,
    /// <summary>A value out of range, a NULL where one is not allowed (SYNOD_E_INVALID_ARGUMENT).</summary>
    InvalidArgument = -1,
    /// <summary>Another node leads the partition; see the leader hint (SYNOD_E_NOT_LEADER).</summary>
    NotLeader = -2,
    /// <summary>No leader is known right now; retry later (SYNOD_E_NO_LEADER).</summary>
    NoLeader = -3,
    /// <summary>This node hosts no such partition (SYNOD_E_UNKNOWN_PARTITION).</summary>
    UnknownPartition = -4,
    /// <summary>The payload exceeds <see cref="RaftConfiguration.MaxPayloadBytes"/> (SYNOD_E_PAYLOAD_TOO_LARGE).</summary>
    PayloadTooLarge = -5,
    /// <summary>The partition's request queue is full; retry after results arrive (SYNOD_E_QUEUE_FULL).</summary>
    QueueFull = -6,
    /// <summary>No answer within the request timeout; a proposal may still commit (SYNOD_E_TIMEOUT).</summary>
    Timeout = -7,
    /// <summary>The node was stopped (SYNOD_E_SHUTTING_DOWN).</summary>
    ShuttingDown = -8,
    /// <summary>A leadership transfer is under way; retry after it ends (SYNOD_E_TRANSFER_IN_PROGRESS).</summary>
    TransferInProgress = -9,
    /// <summary>The entry was replaced by a new leader's log and did not commit (SYNOD_E_DROPPED).</summary>
    Dropped = -10,
    /// <summary>The log store failed or is damaged (SYNOD_E_STORAGE).</summary>
    Storage = -11,
    /// <summary>The configuration cannot make a node (SYNOD_E_CONFIG).</summary>
    Config = -12,
    /// <summary>The network transport could not start (SYNOD_E_TRANSPORT).</summary>
    Transport = -13,
    /// <summary>Out of memory (SYNOD_E_NOMEM).</summary>
    NoMemory = -14,
    /// <summary>A bug in Synod (SYNOD_E_INTERNAL).</summary>
    Internal = -15,
    /// <summary>An earlier membership change of the partition is not yet committed; retry after it completes (SYNOD_E_CONF_CHANGE_PENDING).</summary>
    ConfChangePending = -16,
    /// <summary>A change to the partition map named a map version that is no longer current (SYNOD_E_STALE_MAP_VERSION).</summary>
    StaleMapVersion = -17,
    /// <summary>The proposal was routed with a partition generation that is no longer current; refresh the routing and retry (SYNOD_E_STALE_GENERATION).</summary>
    StaleGeneration = -18,
    /// <summary>The partition map's current state refuses the change (SYNOD_E_MAP_CONFLICT).</summary>
    MapConflict = -19,
    /// <summary>Partition 0 belongs to the engine: the host may not propose to it (SYNOD_E_SYSTEM_PARTITION).</summary>
    SystemPartition = -20,
}
