"""The Python runner of the scenarios every binding shares (bindings/scenarios/README.md):
each *.scenario file there is one test here."""

from __future__ import annotations

import asyncio
import threading
from pathlib import Path
from typing import NamedTuple, Optional

import pytest

import synod
from conftest import WAIT, Cluster

SCENARIOS = Path(__file__).resolve().parents[2] / "bindings" / "scenarios"
_ISOLATED_FAILURES = {synod.Status.TIMEOUT, synod.Status.NOT_LEADER, synod.Status.NO_LEADER,
                      synod.Status.DROPPED}


class Written(NamedTuple):
    type: synod.LogType
    data: bytes
    index: int


def _type(field: str) -> synod.LogType:
    return int(field[2:]) if field.startswith("n:") else field[2:]


def _data(field: str, i: int = 0) -> bytes:
    if field == "-":
        return b""
    if field.startswith("bytes:"):
        return b"a" * int(field[6:])
    return field.replace("{i}", str(i)).encode()


class Runner:
    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.cluster: Optional[Cluster] = None
        self.leader = 0
        self.isolated = 0
        self.written: list[Written] = []
        self.given: dict[int, list[synod.Entry]] = {}

    def close(self) -> None:
        if self.cluster is not None:
            self.cluster.close()

    def run(self, line: str) -> None:
        fields, options = [], {}
        for word in line.split("#", 1)[0].split():
            if "=" in word:
                key, value = word.split("=", 1)
                options[key] = value
            elif fields[:1] == ["cluster"] and word == "durable":
                options[word] = ""
            else:
                fields.append(word)
        if fields:
            getattr(self, "step_" + fields[0])(*fields[1:], **options)

    def _status(self, node_id: int, partition: int, type_: str, data: str) -> synod.Status:
        node = self.cluster.nodes[node_id]
        try:
            node.replicate_sync(partition, _type(type_), _data(data))
            return synod.Status.OK
        except synod.SynodError as e:
            return e.status

    def step_cluster(self, size: str, max_payload_bytes: Optional[str] = None,
                     request_timeout_ms: Optional[str] = None, durable: Optional[str] = None) -> None:
        config = {}
        if max_payload_bytes is not None:
            config["max_payload_bytes"] = int(max_payload_bytes)
        if request_timeout_ms is not None:
            config["request_timeout_ms"] = int(request_timeout_ms)
        self.cluster = Cluster(int(size), directory=self.directory if durable is not None else None,
                               **config)
        self.given = {i: [] for i in self.cluster.ids}

    def step_await_leader(self) -> None:
        among = [i for i in self.cluster.ids if i != self.isolated]
        self.leader = self.cluster.wait_leader(1, among=among).id

    def step_write(self, type_: str, data: str, times: str = "x1") -> None:
        for i in range(int(times[1:])):
            t, d = _type(type_), _data(data, i)
            r = self.cluster.nodes[self.leader].replicate_sync(1, t, d)
            if self.written:
                assert r.index > self.written[-1].index
            self.written.append(Written(t, d, r.index))

    def step_refuse(self, status: str, type_: str, data: str, partition: str = "1") -> None:
        assert self._status(self.leader, int(partition), type_, data) == synod.Status[status.upper()]

    def step_isolate_leader(self) -> None:
        self.cluster.net.isolate(self.leader)
        self.isolated, self.leader = self.leader, 0

    def step_write_isolated_fails(self, type_: str, data: str) -> None:
        assert self._status(self.isolated, 1, type_, data) in _ISOLATED_FAILURES

    def step_heal(self) -> None:
        self.cluster.net.heal()
        self.isolated = 0

    def step_expect_entries(self, **options: str) -> None:
        start = int(options.get("from", "1")) - 1  # "from" is a keyword: not a parameter
        expected = [(w.type, w.data, w.index) for w in self.written[start:]]
        for node_id, node in self.cluster.nodes.items():
            given = self.given[node_id]
            while len(given) < len(expected):
                given.append(next(node.entries(timeout=WAIT)))
            assert [(e.type, e.data, e.index) for e in given] == expected, f"node {node_id}"

    def step_report_applied(self, k: str) -> None:
        for node in self.cluster.nodes.values():
            node.report_applied(1, self.written[int(k) - 1].index)

    def step_restart(self) -> None:
        self.cluster.restart()
        self.given = {i: [] for i in self.cluster.ids}

    def step_close_with_pending(self, count: str) -> None:
        leader = self.cluster.nodes[self.leader]

        async def propose_then_close() -> list:
            pending = [asyncio.ensure_future(leader.replicate(1, 1, f"pending-{i}".encode()))
                       for i in range(int(count))]
            await asyncio.sleep(0)  # every proposal is handed to the library before the close
            for node in self.cluster.nodes.values():
                node.close()
            return await asyncio.wait_for(asyncio.gather(*pending, return_exceptions=True), WAIT)

        for outcome in asyncio.run(propose_then_close()):
            assert isinstance(outcome, (synod.Replicated, synod.ShuttingDownError)), repr(outcome)
        names = {t.name for t in threading.enumerate()}
        for node_id in self.cluster.ids:
            assert self.cluster.nodes[node_id].closed
            assert f"synod-poll-{node_id}" not in names


@pytest.mark.parametrize("name", sorted(p.stem for p in SCENARIOS.glob("*.scenario")))
def test_scenario(name: str, tmp_path: Path) -> None:
    runner = Runner(tmp_path)
    try:
        for line in (SCENARIOS / f"{name}.scenario").read_text(encoding="utf-8").splitlines():
            try:
                runner.run(line)
            except AssertionError as e:
                raise AssertionError(f"step {line!r}: {e}") from e
    finally:
        runner.close()


def test_every_scenario_is_found() -> None:
    assert len(list(SCENARIOS.glob("*.scenario"))) >= 7
