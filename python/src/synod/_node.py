"""synod.Node: one member of a Synod cluster."""

from __future__ import annotations

import asyncio
import concurrent.futures
import json
import time
import weakref
from collections.abc import Iterable
from typing import Any, AsyncIterator, Callable, Iterator, Optional, Union

from . import _synod
from ._config import Config, check_str, check_uint
from ._errors import InvalidArgumentError, Status, TimeoutError
from ._dispatch import (CLOSED, Dispatcher, Entry, EntryChannel, LeaderChange, Replicated,
                        _running_loop)
from ._log_type import LogType, encode_log_type
from ._metrics import MetricValue, parse_metrics_json
from ._partition_map import HASH_RANGE, UNROUTED, MapChange, PartitionMap, Route
from ._snapshots import SnapshotReader, SnapshotWriter

__all__ = ["Node", "EntryStream"]

BytesLike = Union[bytes, bytearray, memoryview]
_MAX_TIMEOUT_MS = (1 << 31) - 1
_WAIT_SLICE_MS = 200


def _partition(value: object) -> int:
    return check_uint("partition", value)


def _data(value: object) -> BytesLike:
    if not isinstance(value, (bytes, bytearray, memoryview)):
        raise TypeError(f"data must be bytes, bytearray or memoryview, "
                        f"not {type(value).__name__}")
    return value


def _entry(type: object, data: object) -> tuple[int, BytesLike]:
    """The C ABI's (entry type, payload) of one entry (bindings/LOG_TYPES.md)."""
    return encode_log_type(type, _data(data))  # type: ignore[arg-type]


def _timeout_ms(timeout: Optional[float]) -> int:
    """Seconds as the C ABI's milliseconds; None (no limit) as the largest wait, since
    synod_node_wait_for_leader refuses -1."""
    if timeout is None:
        return _MAX_TIMEOUT_MS
    if isinstance(timeout, bool) or not isinstance(timeout, (int, float)):
        raise TypeError(f"timeout must be a number of seconds or None, "
                        f"not {type(timeout).__name__}")
    if timeout < 0:
        raise ValueError(f"timeout must not be negative, got {timeout}")
    return min(int(timeout * 1000), _MAX_TIMEOUT_MS)


class EntryStream:
    """Committed entries in order, as they arrive; ends when the node is closed.

    Iterate with ``async for`` or, from a thread that is not the node's event loop, with
    ``for`` (``timeout`` then bounds the wait for each entry: synod.TimeoutError).
    """

    def __init__(self, channel: EntryChannel, timeout: Optional[float]) -> None:
        self._channel = channel
        self._timeout = timeout

    def __aiter__(self) -> AsyncIterator[Entry]:
        return self

    async def __anext__(self) -> Entry:
        entry = await self._channel.aget(self._timeout)
        if entry is CLOSED:
            raise StopAsyncIteration
        return entry

    def __iter__(self) -> Iterator[Entry]:
        return self

    def __next__(self) -> Entry:
        entry = self._channel.get(self._timeout)
        if entry is CLOSED:
            raise StopIteration
        return entry


class Node:
    """One member of a Synod cluster, started when made and stopped by :meth:`close`.

    Use it as a context manager (``with`` or ``async with``). Made inside a running
    asyncio event loop, the node's events are dispatched by that loop (it watches the
    node's event fd); otherwise by a daemon thread. ``threaded=True`` forces the thread
    even inside a loop. Either way ``on_entry`` and ``on_leader_change`` run on the
    dispatching thread, one event at a time, in order; an exception they raise is logged
    (logger "synod") and delivery goes on. Without ``on_entry``, committed entries wait in
    a buffer read by :meth:`entries`; consume them, or the buffer grows.

    Snapshots (see ``Config.state_machine``): ``on_snapshot_save(writer)`` is called when
    the node asks for the host's state, right after the entry at ``writer.index``, so the
    state it writes to the :class:`SnapshotWriter` is the state at that index.
    ``on_snapshot_install(reader)`` is called to replace the host's state by the one read
    from the :class:`SnapshotReader`, after every entry below ``reader.index`` and before
    any above it. Both run on the dispatching thread in that order with the entries; each
    snapshot is finished when its callback returns, or fails with the exception it
    raises. In asyncio mode a callback may return an awaitable instead (a coroutine
    function), and the snapshot is finished when it completes: entries go on meanwhile,
    so a save must take what it writes from the state before its first ``await``. A node
    that gets a snapshot without the callback for it fails it (a failed install halts
    the partition).

    Every coroutine method may be awaited from any event loop. Every ``*_sync`` method and
    every other blocking method releases the GIL while it waits.
    """

    def __init__(self, config: Config, *,
                 on_entry: Optional[Callable[[Entry], Any]] = None,
                 on_leader_change: Optional[Callable[[LeaderChange], Any]] = None,
                 threaded: bool = False,
                 on_snapshot_save: Optional[Callable[[SnapshotWriter], Any]] = None,
                 on_snapshot_install: Optional[Callable[[SnapshotReader], Any]] = None) -> None:
        if not isinstance(config, Config):
            raise TypeError(f"config must be a synod.Config, not {type(config).__name__}")
        for name, callback in (("on_entry", on_entry), ("on_leader_change", on_leader_change),
                               ("on_snapshot_save", on_snapshot_save),
                               ("on_snapshot_install", on_snapshot_install)):
            if callback is not None and not callable(callback):
                raise TypeError(f"{name} must be callable")
        native = _synod.Node(config.to_native())
        try:
            self._id = native.id()
            loop = None if threaded else _running_loop()
            self._dispatcher = Dispatcher(native, self._id, loop, on_entry, on_leader_change,
                                          on_snapshot_save, on_snapshot_install)
        except BaseException:
            native.close()
            raise
        self._native = native
        self._has_on_entry = on_entry is not None
        # Closes a node that is dropped without close(), and every node at exit.
        self._finalizer = weakref.finalize(self, self._dispatcher.close)

    # -- lifecycle ---------------------------------------------------------------------

    def close(self) -> None:
        """Stops the node and frees it. Pending requests fail with ShuttingDownError,
        entries already committed are still delivered, then ``entries()`` ends.
        Idempotent; later calls on the node raise ShuttingDownError."""
        self._finalizer()

    @property
    def closed(self) -> bool:
        return not self._finalizer.alive

    def __enter__(self) -> "Node":
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    async def __aenter__(self) -> "Node":
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else self._dispatcher.mode
        return f"<synod.Node id={self._id} {state}>"

    # -- identity and state ------------------------------------------------------------

    @property
    def id(self) -> int:
        """This node's id."""
        return self._id

    @property
    def listen_port(self) -> int:
        """The gRPC transport's port (useful after listening on port 0)."""
        return self._native.listen_port()

    def set_peer_address(self, node_id: int, address: str) -> None:
        """Adds or changes another node's gRPC address while running."""
        self._native.set_peer_address(check_uint("node_id", node_id, minimum=1),
                                      check_str("address", address))

    def partitions(self) -> list[int]:
        """The partitions this node hosts, system partition 0 included, ascending."""
        return self._native.partitions()

    def status(self) -> dict[str, Any]:
        """The node's state: {"node", "partitions": [{"partition", "role", "term",
        "leader", "commit", "applied", "last_index", ...}], "transport": {...}}."""
        return json.loads(self._native.status_json())

    def metrics(self) -> dict[str, MetricValue]:
        """This node's metrics (README.md, "Metrics") as plain values, read now: counters
        and gauges as numbers, histograms as ``{"buckets", "sum", "count"}`` dicts, labelled
        families as dicts keyed by label value (see ``synod._metrics``). For example
        ``node.metrics()["synod_proposal_commit_latency_seconds"]["count"]``."""
        return parse_metrics_json(self._native.metrics_json())

    def metrics_text(self) -> str:
        """This node's metrics in the Prometheus text format 0.0.4, ready to serve with the
        content type ``text/plain; version=0.0.4; charset=utf-8``."""
        return self._native.metrics_text()

    def pending_events(self) -> int:
        """Events queued in the library and not yet dispatched."""
        return self._native.pending_events()

    def is_leader(self, partition: int) -> bool:
        """Whether this node leads ``partition`` now."""
        return self._native.is_leader(_partition(partition))

    def leader(self, partition: int) -> Optional[int]:
        """The leader of ``partition`` as this node knows it; None when none is known."""
        return self._native.leader(_partition(partition)) or None

    def wait_for_leader(self, partition: int, timeout: Optional[float] = 10.0) -> int:
        """Blocks until some node is known to lead ``partition`` and returns its id;
        synod.TimeoutError after ``timeout`` seconds (None: no limit)."""
        p, ms = _partition(partition), _timeout_ms(timeout)
        deadline = time.monotonic() + ms / 1000
        while True:
            # In slices: synod_node_stop does not end a wait in progress, and close()
            # must not hang behind one.
            remaining = max(0, int((deadline - time.monotonic()) * 1000))
            try:
                return self._native.wait_for_leader(p, min(remaining, _WAIT_SLICE_MS))
            except TimeoutError:
                if remaining <= _WAIT_SLICE_MS:
                    raise TimeoutError(f"no leader of partition {p} within {timeout} s",
                                       Status.TIMEOUT) from None

    async def wait_for_leader_async(self, partition: int,
                                    timeout: Optional[float] = 10.0) -> int:
        """:meth:`wait_for_leader` without blocking the event loop."""
        _partition(partition), _timeout_ms(timeout)  # raise here, not in the thread
        return await asyncio.to_thread(self.wait_for_leader, partition, timeout)

    def transfer_leadership(self, partition: int, target: int) -> None:
        """Asks this node, the leader of ``partition``, to hand leadership to ``target``;
        ``on_leader_change`` reports the end of the transfer."""
        self._native.transfer_leadership(_partition(partition),
                                         check_uint("target", target, minimum=1))

    def report_applied(self, partition: int, index: int) -> None:
        """The host has durably applied ``partition`` through ``index``: after a restart
        only later entries are delivered again."""
        self._native.report_applied(_partition(partition), check_uint("index", index))

    async def request_snapshot(self, partition: int) -> int:
        """Asks for a snapshot of ``partition`` now rather than by policy:
        ``on_snapshot_save`` is called for it (reason "requested"), and this returns the
        snapshot's index once it is saved and the log compacted behind it. Raises
        StorageError when the host or the store failed it, UnknownPartitionError,
        ShuttingDownError..."""
        p = _partition(partition)
        return await self._dispatcher.submit(lambda tag: self._native.request_snapshot(p, tag))

    def request_snapshot_sync(self, partition: int, timeout: Optional[float] = None) -> int:
        """:meth:`request_snapshot` for code without an event loop: blocks (at most
        ``timeout`` seconds, then synod.TimeoutError). Not on the node's own event loop,
        which must stay free to run ``on_snapshot_save``."""
        p = _partition(partition)
        if timeout is not None:
            _timeout_ms(timeout)
        future = self._dispatcher.submit_blocking(
            lambda tag: self._native.request_snapshot(p, tag))
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"no snapshot of partition {p} within {timeout} s",
                               Status.TIMEOUT) from None

    # -- partition map -----------------------------------------------------------------

    def _create_call(self, mode: str, lo: int, hi: int,
                     expected_version: int) -> Callable[[int], None]:
        if mode == HASH_RANGE:
            native_mode = _synod.ROUTING_HASH_RANGE
            lo, hi = check_uint("lo", lo), check_uint("hi", hi)
            if lo > hi:
                raise InvalidArgumentError(f"lo {lo} is above hi {hi}",
                                           Status.INVALID_ARGUMENT)
        elif mode == UNROUTED:
            native_mode, lo, hi = _synod.ROUTING_UNROUTED, 0, 0
        else:
            raise InvalidArgumentError(
                f"mode must be {UNROUTED!r} or {HASH_RANGE!r}, not {mode!r}",
                Status.INVALID_ARGUMENT)
        version = check_uint("expected_version", expected_version)
        return lambda tag: self._native.create_partition(native_mode, lo, hi, version, tag)

    def _remove_call(self, partition: int, expected_version: int) -> Callable[[int], None]:
        p = _partition(partition)
        version = check_uint("expected_version", expected_version)
        return lambda tag: self._native.remove_partition(p, version, tag)

    def _wait_map_change(self, call: Callable[[int], None],
                         timeout: Optional[float]) -> MapChange:
        if timeout is not None:
            _timeout_ms(timeout)
        future = self._dispatcher.submit_blocking(call)
        try:
            return future.result(timeout)
        except concurrent.futures.TimeoutError:
            raise TimeoutError(f"no answer from the partition map within {timeout} s",
                               Status.TIMEOUT) from None

    async def create_partition(self, mode: str = UNROUTED, lo: int = 0, hi: int = 0, *,
                               expected_version: int = 0) -> MapChange:
        """Proposes a new user partition on partition 0 (this node must lead it):
        ``mode`` "unrouted" (addressed by id) or "hash_range" owning the key hashes
        ``[lo, hi]``. ``expected_version`` is the map version the caller read
        (:meth:`partition_map`), or 0 to apply regardless. Returns the new partition's id
        and the map version once the change is applied; every voter then runs it.

        Raises NotLeaderError (``leader_hint``: partition 0's leader),
        StaleMapVersionError, MapConflictError (an overlapping range...),
        InvalidArgumentError...; errors from the map carry ``reason`` (for example
        "overlapping") and ``map_version``."""
        return await self._dispatcher.submit(self._create_call(mode, lo, hi, expected_version))

    def create_partition_sync(self, mode: str = UNROUTED, lo: int = 0, hi: int = 0, *,
                              expected_version: int = 0,
                              timeout: Optional[float] = None) -> MapChange:
        """:meth:`create_partition` for code without an event loop: blocks (at most
        ``timeout`` seconds). Not on the node's own event loop."""
        return self._wait_map_change(self._create_call(mode, lo, hi, expected_version), timeout)

    async def remove_partition(self, partition: int, *, expected_version: int = 0) -> MapChange:
        """Proposes removing the unrouted ``partition`` (ids are never reused); every
        voter then stops it and deletes its storage. Raises as :meth:`create_partition`,
        and SystemPartitionError for 0, UnknownPartitionError, MapConflictError for a
        hash-range partition."""
        return await self._dispatcher.submit(self._remove_call(partition, expected_version))

    def remove_partition_sync(self, partition: int, *, expected_version: int = 0,
                              timeout: Optional[float] = None) -> MapChange:
        """:meth:`remove_partition`, blocking."""
        return self._wait_map_change(self._remove_call(partition, expected_version), timeout)

    def partition_map(self) -> PartitionMap:
        """The partition map as this node has applied it (committed; possibly behind the
        leader of partition 0)."""
        return PartitionMap.from_json(self._native.partition_map_json())

    def route(self, key: Union[str, BytesLike]) -> Optional[Route]:
        """Where ``key`` (bytes, or text hashed as UTF-8) goes in this node's map, with
        the generation to carry; None when no partition owns it."""
        if isinstance(key, str):
            key = key.encode("utf-8")
        return Route.from_native(self._native.route(_data(key)))

    def route_hash(self, key_hash: int) -> Optional[Route]:
        """:meth:`route` for a key hash already computed (XXH64, seed 0)."""
        return Route.from_native(self._native.route_hash(check_uint("key_hash", key_hash)))

    # -- requests ----------------------------------------------------------------------

    async def replicate(self, partition: int, type: LogType, data: BytesLike) -> Replicated:
        """Proposes one entry of log ``type`` and waits until it commits. ``type`` is a
        number (1..synod.MAX_LOG_TYPE_NUMBER) or a string (1..255 UTF-8 bytes); every node, of any
        binding, reads it back as given (:attr:`Entry.type`).

        Raises NotLeaderError (with ``leader_hint``), NoLeaderError, QueueFullError,
        PayloadTooLargeError (the limit covers a string type's frame too), TimeoutError
        (the entry may still commit), DroppedError...; InvalidArgumentError for a type
        out of range.
        """
        p = _partition(partition)
        t, d = _entry(type, data)
        return await self._dispatcher.submit(
            lambda tag: self._native.replicate(p, t, d, tag))

    async def replicate_batch(self, partition: int,
                              entries: Iterable[tuple[LogType, BytesLike]]) -> list[Replicated]:
        """Proposes ``(type, data)`` entries together, accepted or refused whole. Returns
        their places in order; if one fails, raises its error (the ones before it may
        have committed)."""
        p = _partition(partition)
        batch = [_entry(t, d) for t, d in entries]
        return await self._dispatcher.submit(
            lambda tag: self._native.replicate_batch(p, batch, tag),
            count=max(len(batch), 1), batch=True)

    async def read_index(self, partition: int) -> int:
        """Waits until a linearizable read of ``partition`` is safe and returns the index
        this node must have applied before serving it from its own state."""
        p = _partition(partition)
        return await self._dispatcher.submit(lambda tag: self._native.read_index(p, tag))

    def replicate_sync(self, partition: int, type: LogType, data: BytesLike) -> Replicated:
        """:meth:`replicate` for code without an event loop: blocks, GIL released."""
        p = _partition(partition)
        t, d = _entry(type, data)
        index, term = self._native.replicate_wait(p, t, d)
        return Replicated(index, term)

    def read_index_sync(self, partition: int) -> int:
        """:meth:`read_index` for code without an event loop: blocks, GIL released."""
        return self._native.read_index_wait(_partition(partition))

    # -- committed entries -------------------------------------------------------------

    def entries(self, timeout: Optional[float] = None) -> EntryStream:
        """The committed entries, in order: ``async for e in node.entries()`` or, off the
        node's event loop, ``for e in node.entries(timeout=5)``. One consumer only."""
        if self._has_on_entry:
            raise RuntimeError("this node delivers its entries to on_entry")
        if timeout is not None:
            _timeout_ms(timeout)
        return EntryStream(self._dispatcher.entries, timeout)

    def next_entry(self, timeout: Optional[float] = None) -> Optional[Entry]:
        """The next committed entry (blocking), or None once the node is closed."""
        if self._has_on_entry:
            raise RuntimeError("this node delivers its entries to on_entry")
        entry = self._dispatcher.entries.get(timeout)
        return None if entry is CLOSED else entry
