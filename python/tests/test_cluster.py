"""A 3-node in-process cluster: replication, reads, entries, callbacks, both dispatch modes."""

from __future__ import annotations

import asyncio
import threading

import pytest

import synod
from conftest import WAIT, Cluster, read_entries, wait_for


def test_replicate_sync_delivers_every_entry_in_order_on_every_node(cluster):
    c = cluster()
    leader = c.wait_leader()
    payloads = [f"entry {i}".encode() for i in range(20)]
    results = [leader.replicate_sync(1, 7, p) for p in payloads]
    assert [r.index for r in results] == sorted(r.index for r in results)
    assert len({r.index for r in results}) == len(results)
    for node in c.nodes.values():
        got = read_entries(node, len(payloads))
        assert [e.data for e in got] == payloads
        assert [(e.index, e.term) for e in got] == [(r.index, r.term) for r in results]
        assert all(e.partition == 1 and e.type == 7 for e in got)


def test_read_index_sync_covers_acknowledged_writes(cluster):
    c = cluster()
    leader = c.wait_leader()
    written = leader.replicate_sync(1, 1, b"x")
    assert leader.read_index_sync(1) >= written.index


def test_not_leader_error_carries_the_leader(cluster):
    c = cluster()
    leader = c.wait_leader()
    follower = c.followers(leader)[0]
    with pytest.raises(synod.NotLeaderError) as info:
        follower.replicate_sync(1, 1, b"x")
    assert info.value.leader_hint == leader.id
    assert info.value.status == synod.Status.NOT_LEADER

    async def refused():
        with pytest.raises(synod.NotLeaderError) as info:
            await follower.replicate(1, 1, b"x")
        assert info.value.leader_hint == leader.id
    asyncio.run(refused())


def test_asyncio_mode_replicate_read_index_and_async_for():
    async def main():
        c = Cluster(3)  # made inside the loop: dispatched by it through the event fd
        try:
            assert all(n._dispatcher.mode == "asyncio" for n in c.nodes.values())
            leader = await asyncio.to_thread(c.wait_leader)
            payloads = [bytes([i]) * (i + 1) for i in range(50)]
            results = await asyncio.gather(*(leader.replicate(1, 2, p) for p in payloads))
            assert len({r.index for r in results}) == 50
            assert await leader.read_index(1) >= max(r.index for r in results)
            by_index = sorted(zip((r.index for r in results), payloads))
            for node in c.nodes.values():
                got = []
                async for entry in node.entries(timeout=WAIT):
                    got.append(entry)
                    if len(got) == len(payloads):
                        break
                assert [(e.index, e.data) for e in got] == by_index
        finally:
            c.close()
    asyncio.run(main())


def test_thread_mode_node_awaited_from_an_event_loop(cluster):
    c = cluster()  # made outside any loop: a poll thread completes the futures
    assert all(n._dispatcher.mode == "thread" for n in c.nodes.values())
    leader = c.wait_leader()

    async def main():
        results = await asyncio.gather(*(leader.replicate(1, 1, b"%d" % i) for i in range(30)))
        index = await leader.read_index(1)
        return results, index
    results, index = asyncio.run(main())
    assert index >= max(r.index for r in results)
    got = read_entries(c.followers(leader)[0], 30)
    assert sorted(e.index for e in got) == sorted(r.index for r in results)


def test_replicate_batch_keeps_order(cluster):
    c = cluster()
    leader = c.wait_leader()
    batch = [(1, b"a"), (2, b"bb"), (3, b"ccc")]
    results = asyncio.run(leader.replicate_batch(1, batch))
    assert [r.index for r in results] == list(range(results[0].index, results[0].index + 3))
    got = read_entries(leader, 3)
    assert [(e.type, e.data) for e in got] == batch


def test_on_entry_callback_runs_in_order_on_the_poll_thread():
    net = synod.Network()
    seen: list[synod.Entry] = []
    threads: set[str] = set()
    cond = threading.Condition()

    def on_entry(entry: synod.Entry) -> None:
        with cond:
            seen.append(entry)
            threads.add(threading.current_thread().name)
            cond.notify_all()

    cfg = synod.Config(node_id=1, members=[1], network=net, tick_interval_ms=5)
    with synod.Node(cfg, on_entry=on_entry) as node:
        node.wait_for_leader(1, WAIT)
        written = [node.replicate_sync(1, 1, b"%d" % i).index for i in range(10)]
        with cond:
            assert cond.wait_for(lambda: len(seen) >= 10, WAIT)
        assert [e.index for e in seen] == written
        assert threads == {"synod-poll-1"}
        with pytest.raises(RuntimeError):
            node.entries()


def test_failing_callback_is_logged_and_delivery_goes_on(caplog):
    cond = threading.Condition()
    seen: list[int] = []

    def on_entry(entry: synod.Entry) -> None:
        if entry.data == b"boom":
            raise RuntimeError("host bug")
        with cond:
            seen.append(entry.index)
            cond.notify_all()

    cfg = synod.Config(node_id=1, members=[1], network=synod.Network(), tick_interval_ms=5)
    with synod.Node(cfg, on_entry=on_entry) as node:
        node.wait_for_leader(1, WAIT)
        node.replicate_sync(1, 1, b"boom")
        last = node.replicate_sync(1, 1, b"fine").index
        with cond:
            assert cond.wait_for(lambda: last in seen, WAIT)
    assert any(r.name == "synod" and r.exc_info and "host bug" in str(r.exc_info[1])
               for r in caplog.records)


def test_leader_change_callback_and_transfer_leadership(cluster):
    c = cluster()
    leader = c.wait_leader()
    target = c.followers(leader)[0]
    leader.transfer_leadership(1, target.id)
    assert c.wait_leader(exclude=[leader.id]) is target
    assert target.is_leader(1) and not leader.is_leader(1)
    assert leader.leader(1) == target.id


def test_partitions_status_and_report_applied(cluster):
    c = cluster(user_partitions=3)
    node = c.nodes[1]
    assert node.partitions() == [0, 1, 2, 3]
    for p in (1, 2, 3):
        c.wait_leader(p)
    status = node.status()
    assert status["node"] == 1
    assert [p["partition"] for p in status["partitions"]] == [0, 1, 2, 3]
    assert {p["role"] for p in status["partitions"]} <= {"leader", "follower", "candidate",
                                                           "pre-candidate"}
    leader = c.wait_leader(2)
    written = leader.replicate_sync(2, 1, b"x")
    entry = read_entries(leader, 1)[0]
    assert entry.index == written.index and entry.partition == 2
    leader.report_applied(2, entry.index)
    with pytest.raises(synod.InvalidArgumentError):
        leader.report_applied(2, entry.index + 1000)


def test_library_log_messages_reach_the_logging_module(caplog):
    caplog.set_level("DEBUG", logger="synod")
    # A gRPC node warns that its traffic is plain text.
    cfg = synod.Config(node_id=1, members=[1], grpc_listen="127.0.0.1:0", tick_interval_ms=5)
    with synod.Node(cfg):
        pass
    assert any(r.name == "synod" and "node 1: " in r.getMessage() for r in caplog.records)
    assert any(getattr(r, "synod_node", None) == 1 for r in caplog.records)
    # About the whole node: the partition and term fields are there, and None.
    plain = [r for r in caplog.records if "plain text" in r.getMessage()]
    assert plain and all((r.synod_partition, r.synod_term) == (None, None) for r in plain)


def test_leader_changes_are_logged_with_node_partition_and_term(cluster, caplog):
    caplog.set_level("DEBUG", logger="synod")
    c = cluster()
    leader = c.wait_leader()
    term = next(p["term"] for p in leader.status()["partitions"] if p["partition"] == 1)

    def every_node_logged_it() -> bool:
        nodes = {r.synod_node for r in list(caplog.records)
                 if getattr(r, "synod_partition", None) == 1 and r.synod_term == term
                 and f"partition 1: leader {leader.id} in term {term}" in r.getMessage()}
        return nodes == set(c.ids)
    # Each node logs the change just before its on_leader_change callback notifies the
    # cluster's condition.
    wait_for(every_node_logged_it, c._cond)


def test_close_fails_pending_requests_with_shutting_down(cluster):
    c = cluster(request_timeout_ms=60000)
    leader = c.wait_leader()
    c.net.isolate(leader.id)  # nothing can commit now: the request stays pending

    async def main():
        pending = asyncio.ensure_future(leader.replicate(1, 1, b"stuck"))
        await asyncio.sleep(0)  # one loop step: the task makes the request
        leader.close()
        with pytest.raises(synod.ShuttingDownError):
            await asyncio.wait_for(pending, WAIT)
    asyncio.run(main())
    assert list(leader.entries(timeout=WAIT)) == []  # the stream ends after close
