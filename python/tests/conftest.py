"""Shared fixtures: small, fast in-process clusters (ticks of 5 ms)."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Callable, Iterable, Optional

import pytest

import synod

FAST = dict(tick_interval_ms=5, election_ticks=10, heartbeat_ticks=1, worker_threads=1,
            request_timeout_ms=2000)
WAIT = 10.0  # seconds: the bound of every wait in the suite


class Cluster:
    """N nodes on one synod.Network that record every leader change they report."""

    def __init__(self, size: int = 3, *, threaded: bool = False, with_entries: bool = True,
                 directory: Optional[Path] = None, **config: object) -> None:
        """``directory``: each node keeps its log (rocksdb, unsynced) in a subdirectory."""
        self.net = synod.Network()
        self.ids = list(range(1, size + 1))
        self._cond = threading.Condition()
        self._known: dict[tuple[int, int], Optional[int]] = {}
        self._threaded = threaded
        self.configs: dict[int, synod.Config] = {}
        self.nodes: dict[int, synod.Node] = {}
        settings = {**FAST, **config}
        for node_id in self.ids:
            if directory is not None:
                settings.update(storage="rocksdb", sync=False,
                                directory=directory / f"node-{node_id}")
            self.configs[node_id] = synod.Config(node_id=node_id, members=self.ids,
                                                 network=self.net, seed=node_id, **settings)
        self._start()

    def _start(self) -> None:
        for node_id, cfg in self.configs.items():
            self.nodes[node_id] = synod.Node(
                cfg, threaded=self._threaded,
                on_leader_change=lambda change, me=node_id: self._on_leader(me, change))

    def restart(self) -> None:
        """Closes every node and starts it again from the same configuration."""
        for node in self.nodes.values():
            node.close()
        with self._cond:
            self._known.clear()
        self._start()

    def _on_leader(self, me: int, change: synod.LeaderChange) -> None:
        with self._cond:
            self._known[(me, change.partition)] = change.leader
            self._cond.notify_all()

    def wait_leader(self, partition: int = 1, among: Optional[Iterable[int]] = None,
                    exclude: Iterable[int] = (), timeout: float = WAIT) -> synod.Node:
        """The leader every node of `among` agrees on (not one of `exclude`)."""
        among = list(self.ids if among is None else among)
        exclude = set(exclude)
        found: list[synod.Node] = []

        def agreed() -> bool:
            views = {self.nodes[i].leader(partition) for i in among}
            if len(views) != 1:
                return False
            leader = views.pop()
            if leader is None or leader in exclude or leader not in among:
                return False
            if not self.nodes[leader].is_leader(partition):
                return False
            found.append(self.nodes[leader])
            return True

        with self._cond:
            # Leader changes wake the wait; the bounded timeout turns a hang into a failure.
            assert self._cond.wait_for(agreed, timeout), (
                f"no agreed leader of partition {partition} among {among} within {timeout} s")
        return found[-1]

    def followers(self, leader: synod.Node) -> list[synod.Node]:
        return [n for n in self.nodes.values() if n is not leader]

    def close(self) -> None:
        for node in self.nodes.values():
            node.close()
        self.net.close()


def wait_for(predicate: Callable[[], bool], cond: threading.Condition,
             timeout: float = WAIT) -> None:
    with cond:
        assert cond.wait_for(predicate, timeout), "condition not met in time"


def read_entries(node: synod.Node, count: int, timeout: float = WAIT) -> list[synod.Entry]:
    """The next `count` committed entries of `node` (bounded wait for each)."""
    return [next(node.entries(timeout=timeout)) for _ in range(count)]


@pytest.fixture
def cluster():
    made: list[Cluster] = []

    def make(size: int = 3, **kwargs: object) -> Cluster:
        c = Cluster(size, **kwargs)
        made.append(c)
        return c

    yield make
    for c in made:
        c.close()
