"""Host snapshots: the file-like objects a node hands its host to save and install state.

A node asks its host to save its state (``on_snapshot_save``) and to replace its state
by a snapshot (``on_snapshot_install``), in log order with the entries. The host gets a
:class:`SnapshotWriter` or a :class:`SnapshotReader`: raw binary streams over the node's
snapshot files, so a state larger than memory streams through in pieces (wrap them in
``io.BufferedWriter`` / ``io.BufferedReader`` for many small writes or reads). Both are
usable from any thread. The node finishes the snapshot when the callback returns (or,
for an awaitable, when it completes): successfully, or failed with the exception raised.
"""

from __future__ import annotations

import io
from typing import Optional, Union

from . import _synod

__all__ = ["SnapshotReader", "SnapshotWriter"]

_REASONS = {
    _synod.SNAPSHOT_POLICY: "policy",
    _synod.SNAPSHOT_REQUESTED: "requested",
    _synod.SNAPSHOT_EXPORT: "export",
}


class SnapshotWriter(io.RawIOBase):
    """The state of ``partition`` being saved as it is at ``index``.

    ``reason`` is "policy" (in-memory model: the snapshot policy was reached),
    "requested" (:meth:`Node.request_snapshot`) or "export" (durable model: a follower
    is behind the compacted log and needs this node's state). Write the whole state, then
    return from the callback; raise to fail the save (it is not kept, and the log stays
    uncompacted). A write the node's file refuses raises synod.StorageError.
    """

    def __init__(self, native: "_synod.Node", handle: int, partition: int, index: int,
                 reason: int) -> None:
        super().__init__()
        self._native = native
        self._handle = handle
        self.partition = partition
        self.index = index
        self.reason = _REASONS.get(reason, f"reason {reason}")

    def writable(self) -> bool:
        return True

    def write(self, data: Union[bytes, bytearray, memoryview]) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("write to a closed snapshot")
        view = memoryview(data)
        self._native.snapshot_write(self._handle, view)
        return view.nbytes

    @property
    def written(self) -> int:
        """Bytes written so far."""
        return self._native.snapshot_size(self._handle)

    def __repr__(self) -> str:
        return (f"<synod.SnapshotWriter partition={self.partition} index={self.index} "
                f"reason={self.reason}>")


class SnapshotReader(io.RawIOBase):
    """A snapshot of ``partition`` taken at ``index`` in ``term``, to replace the host's
    state by.

    ``from_leader`` is True when the leader sent it (this node was behind), False when it
    is this node's own latest snapshot, given back after a restart (in-memory model).
    Read it to the end (``read()``, ``readinto()``, or iterate in chunks), replace the
    state, then return from the callback; no later entry of the partition arrives before
    that. Damaged data (a checksum mismatch, a truncated file) raises synod.StorageError
    as it is read; raise (or let it propagate) to fail the install, which halts the
    partition.
    """

    def __init__(self, native: "_synod.Node", handle: int, partition: int, index: int,
                 term: int, from_leader: bool) -> None:
        super().__init__()
        self._native = native
        self._handle = handle
        self.partition = partition
        self.index = index
        self.term = term
        self.from_leader = from_leader
        self._size: Optional[int] = None

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: Union[bytearray, memoryview]) -> int:  # type: ignore[override]
        if self.closed:
            raise ValueError("read from a closed snapshot")
        return self._native.snapshot_readinto(self._handle, buffer)

    @property
    def size(self) -> int:
        """The size of the snapshot's data in bytes."""
        if self._size is None:
            self._size = self._native.snapshot_size(self._handle)
        return self._size

    def __repr__(self) -> str:
        return (f"<synod.SnapshotReader partition={self.partition} index={self.index} "
                f"term={self.term} from_leader={self.from_leader}>")


def finish(native: "_synod.Node", stream: "SnapshotWriter | SnapshotReader",
           status: int, message: str) -> None:
    """Closes the stream and finishes its handle with ``status`` (0: done)."""
    stream.close()
    native.snapshot_finish(stream._handle, status, message)
