"""Synod's status codes and the exception raised for each."""

from __future__ import annotations

import builtins
import enum

__all__ = [
    "Status",
    "SynodError",
    "InvalidArgumentError",
    "NotLeaderError",
    "NoLeaderError",
    "UnknownPartitionError",
    "PayloadTooLargeError",
    "QueueFullError",
    "TimeoutError",
    "ShuttingDownError",
    "TransferInProgressError",
    "DroppedError",
    "StorageError",
    "ConfigError",
    "TransportError",
    "OutOfMemoryError",
    "InternalError",
    "ConfChangePendingError",
    "StaleMapVersionError",
    "StaleGenerationError",
    "MapConflictError",
    "SystemPartitionError",
    "error_from_status",
]


class Status(enum.IntEnum):
    """The C ABI's ``synod_status`` codes."""

    OK = 0
    INVALID_ARGUMENT = -1
    NOT_LEADER = -2
    NO_LEADER = -3
    UNKNOWN_PARTITION = -4
    PAYLOAD_TOO_LARGE = -5
    QUEUE_FULL = -6
    TIMEOUT = -7
    SHUTTING_DOWN = -8
    TRANSFER_IN_PROGRESS = -9
    DROPPED = -10
    STORAGE = -11
    CONFIG = -12
    TRANSPORT = -13
    NOMEM = -14
    INTERNAL = -15
    CONF_CHANGE_PENDING = -16
    STALE_MAP_VERSION = -17
    STALE_GENERATION = -18
    MAP_CONFLICT = -19
    SYSTEM_PARTITION = -20


class SynodError(Exception):
    """Base of every error the engine reports.

    ``status`` is the C ABI status code (an ``int``, a :class:`Status` when known),
    ``message`` the library's description of the failure.
    """

    status: int = Status.INTERNAL

    def __init__(self, message: str, status: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        if status is not None:
            try:
                self.status = Status(status)
            except ValueError:
                self.status = status


class InvalidArgumentError(SynodError, ValueError):
    """A value the library refuses: out of range, entry type 0, an empty batch..."""

    status = Status.INVALID_ARGUMENT


class NotLeaderError(SynodError):
    """Another node leads the partition; ``leader_hint`` is its id, or ``None``."""

    status = Status.NOT_LEADER

    def __init__(self, message: str, status: int | None = None,
                 leader_hint: int | None = None) -> None:
        super().__init__(message, status)
        self.leader_hint = leader_hint or None


class NoLeaderError(SynodError):
    """No leader is known right now (an election is under way); retry later."""

    status = Status.NO_LEADER


class UnknownPartitionError(SynodError):
    """This node hosts no such partition."""

    status = Status.UNKNOWN_PARTITION


class PayloadTooLargeError(SynodError):
    """The payload exceeds ``Config.max_payload_bytes``."""

    status = Status.PAYLOAD_TOO_LARGE


class QueueFullError(SynodError):
    """The partition's request queue is full; retry after results arrive."""

    status = Status.QUEUE_FULL


class TimeoutError(SynodError, builtins.TimeoutError):  # noqa: A001 - deliberate
    """No answer in time. A proposal that timed out may still commit."""

    status = Status.TIMEOUT


class ShuttingDownError(SynodError):
    """The node was stopped or closed."""

    status = Status.SHUTTING_DOWN


class TransferInProgressError(SynodError):
    """A leadership transfer of the partition is under way; retry after it ends."""

    status = Status.TRANSFER_IN_PROGRESS


class DroppedError(SynodError):
    """The entry was appended, then replaced by a new leader's log: it did not commit."""

    status = Status.DROPPED


class StorageError(SynodError):
    """The log store failed, could not be opened, or holds damaged state."""

    status = Status.STORAGE


class ConfigError(SynodError):
    """The configuration cannot make a node; the message names the setting."""

    status = Status.CONFIG


class TransportError(SynodError):
    """The network transport could not start (for example the address is in use)."""

    status = Status.TRANSPORT


class OutOfMemoryError(SynodError, MemoryError):
    """The library ran out of memory."""

    status = Status.NOMEM


class InternalError(SynodError):
    """A bug in Synod; please report it with the message."""

    status = Status.INTERNAL


class ConfChangePendingError(SynodError):
    """An earlier membership change of the partition is not yet committed; retry after it."""

    status = Status.CONF_CHANGE_PENDING


class StaleMapVersionError(SynodError):
    """A change to the partition map named a map version that is no longer current."""

    status = Status.STALE_MAP_VERSION


class StaleGenerationError(SynodError):
    """The proposal was routed with a partition generation that is no longer current."""

    status = Status.STALE_GENERATION


class MapConflictError(SynodError):
    """The partition map's current state refuses the change."""

    status = Status.MAP_CONFLICT


class SystemPartitionError(SynodError):
    """Partition 0 belongs to the engine: the host may not propose to it."""

    status = Status.SYSTEM_PARTITION


_BY_STATUS: dict[int, type[SynodError]] = {
    cls.status: cls
    for cls in (
        InvalidArgumentError, NotLeaderError, NoLeaderError, UnknownPartitionError,
        PayloadTooLargeError, QueueFullError, TimeoutError, ShuttingDownError,
        TransferInProgressError, DroppedError, StorageError, ConfigError,
        TransportError, OutOfMemoryError, InternalError, ConfChangePendingError,
        StaleMapVersionError, StaleGenerationError, MapConflictError, SystemPartitionError,
    )
}


def error_from_status(status: int, message: str, leader_hint: int = 0) -> SynodError:
    """The exception for a failed call or result (also used by the native module)."""
    cls = _BY_STATUS.get(status, SynodError)
    if cls is NotLeaderError:
        return NotLeaderError(message, status, leader_hint)
    return cls(message, status)
