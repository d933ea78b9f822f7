"""Node configuration and the in-process network."""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Mapping, Sequence
from typing import Optional

from . import _synod
from ._errors import SynodError

__all__ = ["Config", "Network", "Tls"]

_U32 = (1 << 32) - 1
_U64 = (1 << 64) - 1
_STATE_MACHINES = {"in_memory": _synod.STATE_MACHINE_IN_MEMORY,
                   "durable": _synod.STATE_MACHINE_DURABLE}
# synod_config_set_snapshot_policy sets the three together; synod.h's default for this one.
_DEFAULT_KEEP_ENTRIES = 1024


def check_uint(name: str, value: object, maximum: int = _U64, minimum: int = 0) -> int:
    """``value`` as an int in [minimum, maximum]: TypeError or ValueError otherwise."""
    # bool is an int subclass, but True as a node id is almost certainly a mistake.
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{name} must be an int, not {type(value).__name__}")
    if not minimum <= value <= maximum:
        raise ValueError(f"{name} must be in [{minimum}, {maximum}], got {value}")
    return value


def check_str(name: str, value: object) -> str:
    if not isinstance(value, str):
        raise TypeError(f"{name} must be a str, not {type(value).__name__}")
    if "\0" in value:
        raise ValueError(f"{name} must not contain NUL characters")
    return value


class Network:
    """An in-process network joining the nodes of one process, without sockets.

    For tests, simulations and examples. ``isolate`` cuts every link of one node (it keeps
    running); ``heal`` restores them. Nodes keep the network alive, so it may be closed
    before them. Usable as a context manager.
    """

    def __init__(self) -> None:
        self._native = _synod.Network()

    def isolate(self, node_id: int) -> None:
        """Cuts every link to and from ``node_id``."""
        self._native.isolate(check_uint("node_id", node_id, minimum=1))

    def heal(self) -> None:
        """Restores every link cut by :meth:`isolate`."""
        self._native.heal()

    def close(self) -> None:
        """Drops this handle; attached nodes keep the network running. Idempotent."""
        self._native.close()

    @property
    def closed(self) -> bool:
        return self._native.closed

    def __enter__(self) -> "Network":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()


@dataclasses.dataclass(frozen=True)
class Tls:
    """TLS for the network transports: this node's certificate and key, and the CA that
    peers' certificates must be signed by (PEM files). A peer's certificate must name the
    host it is dialled at. With ``mutual``, connecting nodes must present a certificate
    of that CA as well (mutual TLS)."""

    ca_file: "str | os.PathLike[str]"
    cert_file: "str | os.PathLike[str]"
    key_file: "str | os.PathLike[str]"
    mutual: bool = False


@dataclasses.dataclass
class Config:
    """What a :class:`synod.Node` is made from.

    Fields left ``None`` take the library's default (shown in brackets). The configuration
    is copied when a node is made, so one object may be changed and reused.

    Attributes:
        node_id: this node's id, nonzero and unique in the cluster (required).
        members: the voters of a new cluster, this node included; used only when the store
            is empty (a restarted node takes its members from its log).
        cluster_id: nodes refuse traffic from another cluster [1].
        user_partitions: user partitions 1..N of a new cluster [1].
        tick_interval_ms: Raft tick [10].
        election_ticks: election timeout in ticks, more than heartbeat_ticks [10].
        heartbeat_ticks: heartbeat interval in ticks [1].
        max_payload_bytes: the largest payload of one entry [1 MiB, at most 64 MiB].
        max_queued_requests: requests queued per partition before QueueFullError [4096].
        max_pending_events: events waiting for poll before the node pushes back: new
            requests raise QueueFullError and committed entries wait (none is lost) until
            polling has halved the backlog [65536, at least 2].
        request_timeout_ms: how long a request waits for its result [5000].
        worker_threads: threads driving the partitions [0: one per core].
        seed: seed of the election timeouts' randomness [0: picked by the library].
        storage: "rocksdb", "sqlite" or "memory" [memory; rocksdb when only a directory
            is given].
        directory: the data directory of a durable engine.
        sync: sync each write before acknowledging it [True]; False is for tests only.
        network: the in-process transport, or
        grpc_listen: the gRPC transport's "host:port" (port 0 picks one, see
            Node.listen_port), with
        rest_listen: instead of gRPC, the REST transport's "host:port" (HTTP/1.1).
        peers: the other nodes' addresses for gRPC or REST, {node_id: "host:port"}.
        tls: TLS or mutual TLS for gRPC and REST (a :class:`Tls`), or
        shared_secret: plain text with every batch signed by HMAC-SHA256 under this key
            (bytes, at least 16, the same on every node). Neither: plain text, which the
            library logs a warning about.
        state_machine: how the host keeps its state ["in_memory"]. "in_memory": in
            memory, rebuilt on restart from the latest snapshot and the entries above
            it; the node asks for snapshots by the policy below (Node's
            on_snapshot_save) and compacts the log behind them. "durable": in the host's
            own database, whose progress it reports with Node.report_applied; the log is
            compacted behind that floor, and the state is exported only when a follower
            needs it. Snapshots are installed with Node's on_snapshot_install.
        snapshot_every_entries: in-memory model: a snapshot after this many entries
            since the last one [0: never by count].
        snapshot_every_bytes: in-memory model: a snapshot after this many bytes of entry
            payload since the last one [0: never by size].
        snapshot_keep_entries: entries kept below a snapshot (or the applied floor) when
            the log is compacted, for followers a little behind [1024].
    """

    node_id: int
    members: Sequence[int] = ()
    cluster_id: Optional[int] = None
    user_partitions: Optional[int] = None
    tick_interval_ms: Optional[int] = None
    election_ticks: Optional[int] = None
    heartbeat_ticks: Optional[int] = None
    max_payload_bytes: Optional[int] = None
    max_queued_requests: Optional[int] = None
    max_pending_events: Optional[int] = None
    request_timeout_ms: Optional[int] = None
    worker_threads: Optional[int] = None
    seed: Optional[int] = None
    storage: Optional[str] = None
    directory: Optional["str | os.PathLike[str]"] = None
    sync: Optional[bool] = None
    network: Optional[Network] = None
    grpc_listen: Optional[str] = None
    rest_listen: Optional[str] = None
    peers: Mapping[int, str] = dataclasses.field(default_factory=dict)
    tls: Optional[Tls] = None
    shared_secret: Optional[bytes] = None
    state_machine: Optional[str] = None
    snapshot_every_entries: Optional[int] = None
    snapshot_every_bytes: Optional[int] = None
    snapshot_keep_entries: Optional[int] = None

    # (field, largest value, smallest value); election before heartbeat, so that a valid
    # pair is accepted whatever order the library checks the two in.
    _UINTS = (
        ("node_id", _U64, 1),
        ("cluster_id", _U64, 1),
        ("user_partitions", _U32, 1),
        ("tick_interval_ms", _U32, 1),
        ("election_ticks", _U32, 1),
        ("heartbeat_ticks", _U32, 1),
        ("max_payload_bytes", _U64, 0),
        ("max_queued_requests", _U64, 1),
        ("max_pending_events", _U64, 2),
        ("request_timeout_ms", _U32, 1),
        ("worker_threads", _U32, 0),
        ("seed", _U64, 0),
    )

    def to_native(self) -> "_synod.Config":
        """The C configuration handle (validates every field)."""
        native = _synod.Config()
        for name, maximum, minimum in self._UINTS:
            value = getattr(self, name)
            if value is None:
                continue
            check_uint(f"Config.{name}", value, maximum, minimum)
            _apply(name, lambda: getattr(native, name)(value))

        if isinstance(self.members, (str, bytes)) or not isinstance(self.members, Sequence):
            raise TypeError("Config.members must be a sequence of node ids")
        for member in self.members:
            _apply("members", lambda: native.add_member(
                check_uint("Config.members[]", member, minimum=1)))

        if self.storage is not None or self.directory is not None:
            engine = check_str("Config.storage", self.storage or "rocksdb")
            directory = None if self.directory is None else os.fspath(self.directory)
            if directory is not None:
                check_str("Config.directory", directory)
            _apply("storage", lambda: native.storage(engine, directory))
        if self.sync is not None:
            if not isinstance(self.sync, bool):
                raise TypeError("Config.sync must be a bool")
            native.sync(self.sync)

        if self.state_machine is not None:
            model = _STATE_MACHINES.get(check_str("Config.state_machine", self.state_machine))
            if model is None:
                raise ValueError(f"Config.state_machine must be one of {sorted(_STATE_MACHINES)}, "
                                 f"got {self.state_machine!r}")
            _apply("state_machine", lambda: native.state_machine(model))
        policy = [getattr(self, f"snapshot_{f}") for f in ("every_entries", "every_bytes",
                                                            "keep_entries")]
        if any(value is not None for value in policy):
            for f, value in zip(("every_entries", "every_bytes", "keep_entries"), policy):
                if value is not None:
                    check_uint(f"Config.snapshot_{f}", value)
            every_entries, every_bytes, keep_entries = policy
            _apply("snapshot_policy", lambda: native.snapshot_policy(
                every_entries or 0, every_bytes or 0,
                _DEFAULT_KEEP_ENTRIES if keep_entries is None else keep_entries))

        transports = [f for f in ("network", "grpc_listen", "rest_listen") if getattr(self, f) is not None]
        if len(transports) > 1:
            raise ValueError(f"Config: set one of network, grpc_listen and rest_listen, not {transports}")
        if self.tls is not None and self.shared_secret is not None:
            raise ValueError("Config: set tls or shared_secret, not both")
        if self.network is not None:
            if not isinstance(self.network, Network):
                raise TypeError("Config.network must be a synod.Network")
            _apply("network", lambda: native.network(self.network._native))
        if self.grpc_listen is not None:
            listen = check_str("Config.grpc_listen", self.grpc_listen)
            _apply("grpc_listen", lambda: native.grpc(listen))
        if self.rest_listen is not None:
            rest = check_str("Config.rest_listen", self.rest_listen)
            _apply("rest_listen", lambda: native.rest(rest))
        if self.tls is not None:
            if not isinstance(self.tls, Tls):
                raise TypeError("Config.tls must be a synod.Tls")
            files = [check_str(f"Config.tls.{f}", os.fspath(getattr(self.tls, f)))
                     for f in ("ca_file", "cert_file", "key_file")]
            _apply("tls", lambda: native.tls(*files, bool(self.tls.mutual)))
        if self.shared_secret is not None:
            if not isinstance(self.shared_secret, (bytes, bytearray)):
                raise TypeError("Config.shared_secret must be bytes")
            _apply("shared_secret", lambda: native.shared_secret(bytes(self.shared_secret)))
        if not isinstance(self.peers, Mapping):
            raise TypeError("Config.peers must be a mapping {node_id: 'host:port'}")
        for peer, address in self.peers.items():
            peer = check_uint("Config.peers key", peer, minimum=1)
            address = check_str("Config.peers value", address)
            _apply("peers", lambda: native.peer_address(peer, address))
        return native


def _apply(field: str, setter) -> None:
    """Runs a native setter, naming the field in the library's refusal."""
    try:
        setter()
    except SynodError as e:
        raise type(e)(f"Config.{field}: {e.message}", e.status) from None
