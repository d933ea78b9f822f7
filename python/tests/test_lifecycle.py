"""Closing from a callback, from another thread, and by the garbage collector."""

from __future__ import annotations

import asyncio
import gc
import threading

import synod
from conftest import FAST, WAIT


def _config(**extra: object) -> synod.Config:
    return synod.Config(node_id=1, members=[1], network=synod.Network(), **FAST, **extra)


def test_close_from_a_callback_on_the_poll_thread():
    holder: dict[str, synod.Node] = {}
    closed_in_callback = threading.Event()

    def on_entry(entry: synod.Entry) -> None:
        holder["node"].close()  # finishes after this callback returns
        closed_in_callback.set()

    node = synod.Node(_config(), on_entry=on_entry)
    holder["node"] = node
    thread = node._dispatcher._thread
    node.wait_for_leader(1, WAIT)
    node.replicate_sync(1, 1, b"close me")
    assert closed_in_callback.wait(WAIT)
    thread.join(WAIT)
    assert not thread.is_alive() and node.closed and node._native.closed


def test_close_from_a_callback_on_the_event_loop():
    async def main():
        closed = asyncio.Event()
        holder: dict[str, synod.Node] = {}

        def on_entry(entry: synod.Entry) -> None:
            holder["node"].close()
            closed.set()

        node = holder["node"] = synod.Node(_config(), on_entry=on_entry)
        await node.wait_for_leader_async(1, WAIT)
        await node.replicate(1, 1, b"close me")
        await asyncio.wait_for(closed.wait(), WAIT)
        assert node.closed and node._native.closed
    asyncio.run(main())


def test_asyncio_node_closed_from_another_thread():
    async def main():
        node = synod.Node(_config())
        await node.wait_for_leader_async(1, WAIT)
        written = await node.replicate(1, 1, b"x")
        await asyncio.to_thread(node.close)
        assert node._native.closed
        assert [e.index async for e in node.entries(timeout=WAIT)] == [written.index]
    asyncio.run(main())


def test_close_inside_the_event_loops_poll_is_deferred():
    # What the garbage collector does when it finalizes a dropped node while the loop's
    # reader is inside poll(): close() on the thread that holds the poll lock.
    async def main():
        node = synod.Node(_config())
        await node.wait_for_leader_async(1, WAIT)
        dispatcher = node._dispatcher
        native = dispatcher._native

        class CloseDuringPoll:
            closed_inside = False

            def poll(self, *args):
                if not self.closed_inside:
                    self.closed_inside = True
                    dispatcher.close()
                return native.poll(*args)

            def __getattr__(self, name):
                return getattr(native, name)

        proxy = dispatcher._native = CloseDuringPoll()
        try:
            await node.replicate(1, 1, b"x")
        except synod.ShuttingDownError:
            pass
        for _ in range(1000):
            if native.closed:
                break
            await asyncio.sleep(0.01)
        assert proxy.closed_inside and native.closed

    failures: list[BaseException] = []

    def run() -> None:
        try:
            asyncio.run(main())
        except BaseException as e:  # noqa: BLE001 - reported below
            failures.append(e)

    # A deadlock would hang the loop's thread: bounded here.
    runner = threading.Thread(target=run, daemon=True)
    runner.start()
    runner.join(WAIT)
    assert not runner.is_alive(), "close() inside poll() deadlocked the event loop"
    assert not failures, failures


def test_dropped_node_is_closed_by_the_finalizer():
    node = synod.Node(_config())
    thread = node._dispatcher._thread
    native = node._native
    del node
    gc.collect()
    thread.join(WAIT)
    assert not thread.is_alive() and native.closed


def test_close_ends_blocking_calls_of_other_threads():
    # Three members, one alive: no leader, nothing commits, every call below blocks.
    cfg = synod.Config(node_id=1, members=[1, 2, 3], network=synod.Network(),
                       **{**FAST, "request_timeout_ms": 60000})
    node = synod.Node(cfg)
    outcomes: list[BaseException] = []
    calls = [lambda: node.wait_for_leader(1, None), lambda: node.wait_for_leader(1, 60)]
    started = threading.Barrier(len(calls) + 1)

    def run(call) -> None:
        started.wait()
        try:
            call()
        except BaseException as e:  # noqa: BLE001 - recorded for the assertion
            outcomes.append(e)

    threads = [threading.Thread(target=run, args=(c,)) for c in calls]
    for t in threads:
        t.start()
    started.wait()
    node.close()
    for t in threads:
        t.join(WAIT)
        assert not t.is_alive()
    assert len(outcomes) == len(calls)
    assert all(isinstance(e, synod.ShuttingDownError) for e in outcomes), outcomes
