"""Making, using and closing a node 1,000 times keeps the process's memory flat."""

from __future__ import annotations

import asyncio
import os

import synod
from conftest import WAIT

_PAGE = os.sysconf("SC_PAGE_SIZE")


def _rss_bytes() -> int:
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * _PAGE


def _cycle(net: synod.Network, loop: asyncio.AbstractEventLoop, n: int) -> None:
    # A single-member cluster with 1 ms ticks elects itself within a few ms, so every
    # cycle can also exercise the request, event and entry paths.
    cfg = synod.Config(node_id=1, members=[1], network=net, storage="memory",
                       worker_threads=1, tick_interval_ms=1, election_ticks=3)
    for _ in range(n):
        node = synod.Node(cfg)
        node.wait_for_leader(1, WAIT)
        node.replicate_sync(1, 1, b"s" * 100)
        loop.run_until_complete(node.replicate(1, 1, b"a" * 100))
        assert node.next_entry(WAIT).data == b"s" * 100
        node.close()


def test_node_made_and_closed_1000_times_keeps_rss_flat():
    net = synod.Network()
    loop = asyncio.new_event_loop()
    try:
        _cycle(net, loop, 100)  # warm-up: allocator pools, thread stacks, caches
        before = _rss_bytes()
        _cycle(net, loop, 1000)
        grown = _rss_bytes() - before
    finally:
        loop.close()
        net.close()
    assert grown < 20 * 1024 * 1024, f"RSS grew by {grown / 2**20:.1f} MiB"
