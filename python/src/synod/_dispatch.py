"""The one place a node's events are polled and dispatched.

synod.h allows one poller per node, and every event must reach its consumer exactly
once, in order. So each node has exactly one Dispatcher, in one of two modes fixed when
the node is made:

* asyncio mode (the node was made inside a running event loop): the loop watches the
  node's event fd with ``add_reader``; when it becomes readable the loop thread polls
  with timeout 0 and dispatches. No thread, no busy polling.
* thread mode (otherwise): a daemon thread blocks in ``synod_node_poll`` with the GIL
  released and dispatches on that thread.

Requests awaited from any event loop register an asyncio future under a fresh tag
*before* the C call, so a result polled at once still finds it; the dispatcher
completes it directly when it runs on the future's loop, else through
``call_soon_threadsafe``; blocking requests register a ``concurrent.futures.Future``
instead. Entries go to the ``on_entry`` callback or, without one, to an
:class:`EntryChannel` read by ``Node.entries()``. Snapshot saves and installs go to
``on_snapshot_save`` and ``on_snapshot_install`` in the same order as the entries, and are
finished when the callback returns (or, for an awaitable in asyncio mode, completes).
"""

from __future__ import annotations

import asyncio
import collections
import concurrent.futures
import inspect
import itertools
import logging
import threading
import time
from typing import Any, Callable, NamedTuple, Optional

from . import _synod
from ._errors import (ShuttingDownError, Status, SynodError, TimeoutError,
                      error_from_status)
from ._log_type import LogType, decode_log_type
from ._partition_map import MapChange
from ._snapshots import SnapshotReader, SnapshotWriter, finish as finish_snapshot

logger = logging.getLogger("synod")

_EVENT_BATCH = 256
# Bounds how long close() drains a stopped node: the library ends the queue at once, so
# reaching this means a library bug, and close() then fails what is still pending.
_DRAIN_TIMEOUT_S = 10.0

_LOG_LEVELS = {0: logging.DEBUG, 1: logging.INFO, 2: logging.WARNING, 3: logging.ERROR}


class Entry(NamedTuple):
    """A committed entry, delivered in log order per partition. ``type`` is its log type,
    an ``int`` or a ``str``, as whichever binding wrote it gave it; ``data`` its bytes
    without the type (bindings/LOG_TYPES.md)."""

    partition: int
    index: int
    term: int
    type: LogType
    data: bytes


class Replicated(NamedTuple):
    """Where a proposal committed."""

    index: int
    term: int


class LeaderChange(NamedTuple):
    """The leader of ``partition`` changed; ``leader`` is None while none is known."""

    partition: int
    leader: Optional[int]
    term: int


def _running_loop() -> Optional[asyncio.AbstractEventLoop]:
    try:
        return asyncio.get_running_loop()
    except RuntimeError:
        return None


def _resolve(future: asyncio.Future, result: Any, error: Optional[BaseException]) -> None:
    if future.done():  # cancelled by whoever awaited it
        return
    if error is None:
        future.set_result(result)
    else:
        future.set_exception(error)


def _complete(loop: Optional[asyncio.AbstractEventLoop],
              future: "asyncio.Future | concurrent.futures.Future", result: Any,
              error: Optional[BaseException]) -> None:
    """Completes ``future`` from any thread: an asyncio future of ``loop``, or, when
    ``loop`` is None, a concurrent.futures.Future (thread-safe itself)."""
    if loop is None:
        if future.set_running_or_notify_cancel():
            if error is None:
                future.set_result(result)
            else:
                future.set_exception(error)
        return
    if _running_loop() is loop:
        _resolve(future, result, error)
        return
    try:
        loop.call_soon_threadsafe(_resolve, future, result, error)
    except RuntimeError:
        pass  # the loop is closed: nobody can await the future any more


class _Closed:
    """Returned by EntryChannel.get once the node is closed and every entry was taken."""


CLOSED = _Closed()


class EntryChannel:
    """Entries waiting for ``Node.entries()``: put from the dispatcher, taken by one
    consumer, blocking or awaiting, from any thread or loop."""

    def __init__(self) -> None:
        self._items: collections.deque[Entry] = collections.deque()
        self._cond = threading.Condition(threading.Lock())
        self._closed = False
        self._waiters: list[tuple[asyncio.AbstractEventLoop, asyncio.Future]] = []

    def _wake(self) -> None:
        with self._cond:
            self._cond.notify_all()
            waiters, self._waiters = self._waiters, []
        for loop, future in waiters:
            _complete(loop, future, None, None)

    def put(self, entry: Entry) -> None:
        with self._cond:
            self._items.append(entry)
        self._wake()

    def close(self) -> None:
        with self._cond:
            self._closed = True
        self._wake()

    def get(self, timeout: Optional[float]) -> "Entry | _Closed":
        with self._cond:
            if not self._cond.wait_for(lambda: self._items or self._closed, timeout):
                raise TimeoutError(f"no committed entry within {timeout} s")
            return self._items.popleft() if self._items else CLOSED

    async def aget(self, timeout: Optional[float] = None) -> "Entry | _Closed":
        # Waits on a bare future rather than under asyncio.wait_for, so a timeout can never
        # race with an entry already taken off the queue.
        loop = asyncio.get_running_loop()
        deadline = None if timeout is None else loop.time() + timeout
        while True:
            with self._cond:
                if self._items:
                    return self._items.popleft()
                if self._closed:
                    return CLOSED
                future = loop.create_future()
                self._waiters.append((loop, future))
            remaining = None if deadline is None else max(0.0, deadline - loop.time())
            done, _ = await asyncio.wait([future], timeout=remaining)
            if not done:
                future.cancel()
                raise TimeoutError(f"no committed entry within {timeout} s")

    def __len__(self) -> int:
        return len(self._items)


class _Pending:
    __slots__ = ("loop", "future", "results", "remaining", "batch", "error")

    def __init__(self, loop: Optional[asyncio.AbstractEventLoop],
                 future: "asyncio.Future | concurrent.futures.Future", count: int,
                 batch: bool) -> None:
        self.loop = loop
        self.future = future
        self.results: list[Any] = [None] * count
        self.remaining = count
        self.batch = batch
        self.error: Optional[SynodError] = None


class Dispatcher:
    """Polls one native node and routes its events (see the module docstring)."""

    def __init__(self, native: "_synod.Node", node_id: int,
                 loop: Optional[asyncio.AbstractEventLoop],
                 on_entry: Optional[Callable[[Entry], Any]],
                 on_leader_change: Optional[Callable[[LeaderChange], Any]],
                 on_snapshot_save: Optional[Callable[[SnapshotWriter], Any]] = None,
                 on_snapshot_install: Optional[Callable[[SnapshotReader], Any]] = None) -> None:
        self._native = native
        self._node_id = node_id
        self._loop = loop
        self._on_entry = on_entry
        self._on_leader_change = on_leader_change
        self._on_snapshot_save = on_snapshot_save
        self._on_snapshot_install = on_snapshot_install
        self.entries = EntryChannel()
        self._pending: dict[int, _Pending] = {}
        self._tags = itertools.count(1)
        self._state_lock = threading.Lock()
        self._closing = False
        self._close_deferred = False
        self._dispatching_thread: Optional[int] = None
        # asyncio mode: keeps the loop's reader and a closing thread from polling at once.
        self._poll_lock = threading.Lock()
        self._drained = False
        self._fd: Optional[int] = None
        self._thread: Optional[threading.Thread] = None
        if loop is None:
            self._thread = threading.Thread(target=self._run, daemon=True,
                                            name=f"synod-poll-{node_id}")
            self._thread.start()
        else:
            self._fd = native.event_fd()
            loop.add_reader(self._fd, self._on_readable)

    @property
    def mode(self) -> str:
        return "thread" if self._thread is not None else "asyncio"

    # -- requests ----------------------------------------------------------------------

    def submit(self, call: Callable[[int], None], count: int = 1,
               batch: bool = False) -> asyncio.Future:
        """Registers a request, then makes it with ``call(tag)``; its future completes
        with the result event(s)."""
        loop = asyncio.get_running_loop()
        return self._register(call, loop, loop.create_future(), count, batch)

    def submit_blocking(self, call: Callable[[int], None]) -> concurrent.futures.Future:
        """As :meth:`submit`, for a caller that blocks on the result: from any thread but
        the one that dispatches (which would wait for itself)."""
        if self._thread is None and _running_loop() is self._loop:
            raise RuntimeError("a blocking call on the event loop that dispatches this node's "
                               "events would wait for itself: await the coroutine instead")
        return self._register(call, None, concurrent.futures.Future(), 1, False)

    def _register(self, call: Callable[[int], None], loop: Optional[asyncio.AbstractEventLoop],
                  future: "asyncio.Future | concurrent.futures.Future", count: int,
                  batch: bool) -> Any:
        tag = next(self._tags)
        self._pending[tag] = _Pending(loop, future, count, batch)
        try:
            call(tag)
        except BaseException:
            self._pending.pop(tag, None)
            raise
        return future

    # -- dispatch ----------------------------------------------------------------------

    def _dispatch(self, events: list) -> None:
        for event in events:
            self._dispatch_one(*event)

    def _dispatch_one(self, kind: int, status: int, partition: int, tag: int, index: int,
                      term: int, leader_hint: int, entry_type: int, batch_position: int,
                      data: bytes) -> None:
        if kind == _synod.EVENT_ENTRY:
            entry = Entry(partition, index, term, *decode_log_type(entry_type, data))
            if self._on_entry is not None:
                self._call(self._on_entry, entry)
            else:
                self.entries.put(entry)
        elif kind == _synod.EVENT_SNAPSHOT_SAVE:
            self._snapshot(self._on_snapshot_save, "on_snapshot_save",
                           SnapshotWriter(self._native, tag, partition, index, entry_type))
        elif kind == _synod.EVENT_SNAPSHOT_INSTALL:
            self._snapshot(self._on_snapshot_install, "on_snapshot_install",
                           SnapshotReader(self._native, tag, partition, index, term,
                                          entry_type != 0))
        elif kind in (_synod.EVENT_REPLICATED, _synod.EVENT_READ_INDEX,
                      _synod.EVENT_SNAPSHOT_DONE):
            pending = self._pending.get(tag)
            if pending is None:
                logger.warning("node %d: result for unknown tag %d", self._node_id, tag)
                return
            if status == 0:
                pending.results[batch_position] = (
                    Replicated(index, term) if kind == _synod.EVENT_REPLICATED else index)
            elif pending.error is None:
                pending.error = error_from_status(
                    status, f"{_synod.errstr(status)} (node {self._node_id}, partition "
                            f"{partition})", leader_hint)
            pending.remaining -= 1
            if pending.remaining == 0:
                del self._pending[tag]
                result = pending.results if pending.batch else pending.results[0]
                _complete(pending.loop, pending.future,
                          None if pending.error else result, pending.error)
        elif kind == _synod.EVENT_PARTITION_MAP:
            pending = self._pending.pop(tag, None)
            if pending is None:
                logger.warning("node %d: result for unknown tag %d", self._node_id, tag)
                return
            error: Optional[SynodError] = None
            if status != 0:
                reason = data.decode("utf-8", "replace")
                message = f"{_synod.errstr(status)} (node {self._node_id}, partition map"
                message += f" version {term}" + (f": {reason})" if reason else ")")
                error = error_from_status(status, message, leader_hint)
                error.reason = reason or None  # type: ignore[attr-defined]
                error.map_version = term  # type: ignore[attr-defined]
            _complete(pending.loop, pending.future,
                      None if error else MapChange(partition, term, index), error)
        elif kind == _synod.EVENT_LEADER_CHANGED:
            logger.debug("node %d: partition %d: leader %d in term %d", self._node_id,
                         partition, leader_hint, term,
                         extra={"synod_node": self._node_id, "synod_partition": partition,
                                "synod_term": term})
            if self._on_leader_change is not None:
                self._call(self._on_leader_change,
                           LeaderChange(partition, leader_hint or None, term))
        elif kind == _synod.EVENT_LOG:
            # entry_type says what the line concerns besides the node (synod_log_flags);
            # None where it concerns no partition, or the term is not known.
            scoped = bool(entry_type & _synod.LOG_HAS_PARTITION)
            logger.log(_LOG_LEVELS.get(status, logging.INFO), "node %d: %s",
                       self._node_id, data.decode("utf-8", "replace"),
                       extra={"synod_node": self._node_id,
                              "synod_partition": partition if scoped else None,
                              "synod_term": (term if scoped and entry_type & _synod.LOG_HAS_TERM
                                             else None)})

    def _snapshot(self, callback: Optional[Callable[[Any], Any]], name: str,
                  stream: "SnapshotWriter | SnapshotReader") -> None:
        """Hands a save or install to its callback, and finishes it once the callback has
        returned, or once the awaitable it returned has completed."""
        if callback is None:
            logger.warning("node %d: %r arrived, but the node has no %s", self._node_id,
                           stream, name)
            self._finish_snapshot(stream, RuntimeError(f"the host gave node {self._node_id} no {name}"))
            return
        try:
            result = callback(stream)
        except Exception as e:
            logger.exception("node %d: %s failed for %r", self._node_id, name, stream)
            self._finish_snapshot(stream, e)
            return
        if not inspect.isawaitable(result):
            self._finish_snapshot(stream, None)
            return
        if self._loop is None:
            if inspect.iscoroutine(result):
                result.close()
            self._finish_snapshot(stream, RuntimeError(
                f"{name} returned an awaitable, but node {self._node_id} dispatches on a "
                "thread: make the node inside the event loop to await it"))
            return
        task = asyncio.ensure_future(result, loop=self._loop)
        task.add_done_callback(lambda t: self._finish_task(name, stream, t))

    def _finish_task(self, name: str, stream: "SnapshotWriter | SnapshotReader",
                     task: asyncio.Future) -> None:
        if task.cancelled():
            self._finish_snapshot(stream, RuntimeError(f"{name} was cancelled"))
            return
        error = task.exception()
        if error is not None:
            logger.error("node %d: %s failed for %r", self._node_id, name, stream,
                         exc_info=error)
        self._finish_snapshot(stream, error)

    def _finish_snapshot(self, stream: "SnapshotWriter | SnapshotReader",
                         error: Optional[BaseException]) -> None:
        if error is None:
            status, message = Status.OK, ""
        else:
            status = error.status if isinstance(error, SynodError) else Status.INTERNAL
            message = f"{type(error).__name__}: {error}"
        try:
            finish_snapshot(self._native, stream, int(status), message)
        except SynodError as e:
            # The node stopped meanwhile and finished it already, as failed.
            logger.debug("node %d: finishing %r: %s", self._node_id, stream, e)

    def _call(self, callback: Callable[[Any], Any], arg: Any) -> None:
        # A failing callback must not stop the delivery of everything after it.
        try:
            callback(arg)
        except Exception:
            logger.exception("node %d: callback %r raised", self._node_id, callback)

    def _run(self) -> None:
        """Thread mode: the poll loop, until the node is stopped and drained."""
        try:
            while True:
                events = self._native.poll(_EVENT_BATCH, -1)
                if events is None:
                    break
                self._dispatch(events)
        except Exception:
            logger.exception("node %d: the poll thread failed", self._node_id)
        finally:
            self._finish()
            if self._close_deferred:
                self._native.close()

    def _on_readable(self) -> None:
        """asyncio mode: the event fd is readable."""
        with self._poll_lock:
            if self._drained:
                return
            # Marked before polling, not only while dispatching: a close() on this thread
            # meanwhile (a callback, or a finalizer the garbage collector runs inside
            # poll()) must defer rather than wait for the lock this thread holds.
            self._dispatching_thread = threading.get_ident()
            try:
                events = self._native.poll(_EVENT_BATCH, 0)
                if events is None:  # the node stopped by itself (a storage failure)
                    self._drained = True
                    self._detach_reader()
                    self._finish()
                    return
                self._dispatch(events)
            finally:
                self._dispatching_thread = None
        if self._close_deferred:
            self._close_deferred = False
            self._complete_close()

    def _finish(self) -> None:
        """Fails what the library left pending (it should leave nothing) and ends the
        entry stream."""
        pending, self._pending = self._pending, {}
        # A submit() on another thread may still insert into the old dict: iterate a copy.
        for p in list(pending.values()):
            _complete(p.loop, p.future, None,
                      ShuttingDownError("the node was closed before the result arrived"))
        self.entries.close()

    def _detach_reader(self) -> None:
        fd, self._fd = self._fd, None
        loop = self._loop
        if fd is None or loop is None or loop.is_closed():
            return
        if _running_loop() is loop or not loop.is_running():
            loop.remove_reader(fd)
            return
        removed = threading.Event()

        def remove() -> None:
            loop.remove_reader(fd)
            removed.set()

        try:
            loop.call_soon_threadsafe(remove)
        except RuntimeError:
            return
        # Bounded: a loop that is running but stuck must not hang close(); the poll lock
        # and the drained flag keep a late reader callback harmless.
        removed.wait(5.0)

    # -- closing -----------------------------------------------------------------------

    def close(self) -> None:
        """Stops the node, delivers what is left (pending requests fail with
        ShuttingDownError), ends the entry stream and frees the node. Idempotent."""
        with self._state_lock:
            if self._closing:
                return
            self._closing = True
        try:
            self._native.stop()
        except ShuttingDownError:
            pass
        me = threading.get_ident()
        if me == self._dispatching_thread or (
                self._thread is not None and self._thread.ident == me):
            # Called from a callback: the dispatcher finishes the close after it returns.
            self._close_deferred = True
            return
        self._complete_close()

    def _complete_close(self) -> None:
        if self._thread is not None:
            self._thread.join()
        else:
            self._detach_reader()
            with self._poll_lock:
                deadline = time.monotonic() + _DRAIN_TIMEOUT_S
                while not self._drained and time.monotonic() < deadline:
                    events = self._native.poll(_EVENT_BATCH, 100)
                    if events is None:
                        break
                    self._dispatch(events)
                self._drained = True
            self._finish()
        self._native.close()
