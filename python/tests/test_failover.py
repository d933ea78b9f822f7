"""Leader failover: isolate the leader, a new one is elected, writes continue, and no
acknowledged write is lost."""

from __future__ import annotations

import asyncio
import threading

import synod
from conftest import WAIT, Cluster


def _drain_until(node: synod.Node, wanted: set[int]) -> dict[int, bytes]:
    """Entries of `node` until every index of `wanted` arrived: {index: data}."""
    got: dict[int, bytes] = {}
    last = 0
    for entry in node.entries(timeout=WAIT):
        assert entry.index > last, "entries must arrive in log order"
        last = entry.index
        got[entry.index] = entry.data
        if wanted <= got.keys():
            return got
    raise AssertionError("the entry stream ended early")


def test_isolated_leader_is_replaced_and_no_acknowledged_write_is_lost(cluster):
    c = cluster(request_timeout_ms=1000)
    old = c.wait_leader()
    acked: dict[int, bytes] = {}
    for i in range(20):
        data = b"before %d" % i
        acked[old.replicate_sync(1, 1, data).index] = data

    # A writer keeps proposing to the old leader while it is cut off: nothing it is told
    # is acknowledged may be lost either.
    stop = threading.Event()
    outcomes: list[object] = []

    def stubborn_writer() -> None:
        i = 0
        while not stop.is_set():
            data = b"old leader %d" % i
            i += 1
            try:
                acked[old.replicate_sync(1, 1, data).index] = data
                outcomes.append("ok")
            except synod.SynodError as e:
                outcomes.append(type(e))
                if isinstance(e, (synod.NotLeaderError, synod.NoLeaderError)):
                    return

    writer = threading.Thread(target=stubborn_writer)
    writer.start()
    c.net.isolate(old.id)
    survivors = [i for i in c.ids if i != old.id]
    new = c.wait_leader(among=survivors, exclude=[old.id])
    assert new.id != old.id

    for i in range(20):
        data = b"after %d" % i
        acked[new.replicate_sync(1, 1, data).index] = data
    stop.set()
    writer.join(WAIT)
    assert not writer.is_alive()
    assert outcomes and outcomes[-1] != "ok", "the isolated leader must stop acknowledging"

    for node_id in survivors:
        got = _drain_until(c.nodes[node_id], set(acked))
        assert all(got[index] == data for index, data in acked.items())

    # Healed, the old leader catches up with the same log.
    c.net.heal()
    got = _drain_until(old, set(acked))
    assert all(got[index] == data for index, data in acked.items())
    assert c.wait_leader().id != 0


def test_failover_in_asyncio_mode():
    async def main():
        c = Cluster(3, request_timeout_ms=1000)
        try:
            old = await asyncio.to_thread(c.wait_leader)
            first = await asyncio.gather(*(old.replicate(1, 1, b"a%d" % i) for i in range(10)))
            c.net.isolate(old.id)
            survivors = [i for i in c.ids if i != old.id]
            new = await asyncio.to_thread(c.wait_leader, 1, survivors, [old.id])
            second = await asyncio.gather(*(new.replicate(1, 1, b"b%d" % i) for i in range(10)))
            wanted = {r.index for r in first + second}
            for node_id in survivors:
                seen = set()
                async for entry in c.nodes[node_id].entries(timeout=WAIT):
                    seen.add(entry.index)
                    if wanted <= seen:
                        break
        finally:
            c.close()
    asyncio.run(main())


def test_entries_committed_before_close_are_still_delivered(cluster):
    c = cluster()
    leader = c.wait_leader()
    written = [leader.replicate_sync(1, 1, b"%d" % i).index for i in range(5)]
    # The leader's own entries are buffered: close() must not throw them away.
    leader.close()
    assert [e.index for e in leader.entries(timeout=WAIT)] == written
