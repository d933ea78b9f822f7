"""Synod: an embeddable multi-Raft consensus engine.

This package binds the library's C ABI (synod.h) through the native module ``_synod``::

    import synod

    with synod.Network() as net:
        configs = [synod.Config(node_id=i, members=[1, 2, 3], network=net) for i in (1, 2, 3)]
        nodes = [synod.Node(c) for c in configs]
        leader_id = nodes[0].wait_for_leader(1)
        leader = next(n for n in nodes if n.id == leader_id)
        result = leader.replicate_sync(1, "Greeting", b"hello")  # or: await leader.replicate(...)
        for node in nodes:
            print(node.next_entry(timeout=5))                # Entry(partition=1, index=..., ...)
            node.close()

A log type is an ``int`` or a ``str``, encoded as every binding does
(bindings/LOG_TYPES.md); ``Entry.type`` gives it back.

Log messages of the library go to the ``logging`` logger "synod".
"""

from . import _synod
from ._config import Config, Network, Tls
from ._dispatch import Entry, LeaderChange, Replicated
from ._errors import (
    ConfChangePendingError,
    ConfigError,
    DroppedError,
    InternalError,
    InvalidArgumentError,
    MapConflictError,
    NoLeaderError,
    NotLeaderError,
    OutOfMemoryError,
    PayloadTooLargeError,
    QueueFullError,
    ShuttingDownError,
    StaleGenerationError,
    StaleMapVersionError,
    Status,
    StorageError,
    SynodError,
    SystemPartitionError,
    TimeoutError,
    TransferInProgressError,
    TransportError,
    UnknownPartitionError,
)
from ._log_type import (MAX_LOG_TYPE_BYTES, MAX_LOG_TYPE_NUMBER, LogType, decode_log_type,
                        encode_log_type)
from ._metrics import Histogram, MetricValue
from ._node import EntryStream, Node
from ._partition_map import HASH_RANGE, UNROUTED, MapChange, PartitionInfo, PartitionMap, Route
from ._snapshots import SnapshotReader, SnapshotWriter

__version__ = _synod.version()
"""The version of the loaded libsynod."""

__all__ = [
    "ConfChangePendingError",
    "Config",
    "ConfigError",
    "DroppedError",
    "Entry",
    "EntryStream",
    "HASH_RANGE",
    "Histogram",
    "InternalError",
    "InvalidArgumentError",
    "LeaderChange",
    "LogType",
    "MapChange",
    "MapConflictError",
    "MAX_LOG_TYPE_BYTES",
    "MAX_LOG_TYPE_NUMBER",
    "MetricValue",
    "Network",
    "Tls",
    "Node",
    "NoLeaderError",
    "NotLeaderError",
    "OutOfMemoryError",
    "PartitionInfo",
    "PartitionMap",
    "PayloadTooLargeError",
    "QueueFullError",
    "Replicated",
    "Route",
    "ShuttingDownError",
    "StaleGenerationError",
    "StaleMapVersionError",
    "SnapshotReader",
    "SnapshotWriter",
    "Status",
    "StorageError",
    "SynodError",
    "SystemPartitionError",
    "TimeoutError",
    "TransferInProgressError",
    "TransportError",
    "UNROUTED",
    "UnknownPartitionError",
    "__version__",
    "decode_log_type",
    "encode_log_type",
]
