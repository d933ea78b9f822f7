"""Host snapshots end to end: both state machine models, a follower that loses its data
and rejoins, a restart, requested snapshots, and failures (a save that raises, damaged
data)."""

from __future__ import annotations

import asyncio
import io
import json
import threading
import time
from pathlib import Path
from typing import Callable, Optional

import pytest

import synod
from conftest import FAST, WAIT


class MapHost:
    """A host whose state is a dict per partition, set by entries b"key=value", saved as
    JSON and installed from it. Records the order of what it was given."""

    def __init__(self, report_applied: bool = False, fail_saves: bool = False) -> None:
        self.cond = threading.Condition()
        self.state: dict[int, dict[str, str]] = {}
        self.applied: dict[int, int] = {}
        self.saves: list[synod.SnapshotWriter] = []
        self.installs: list[synod.SnapshotReader] = []
        self.order: list[tuple[str, int]] = []  # ("entry" | "install", index), partition 1
        self.problems: list[str] = []
        self.install_errors: list[BaseException] = []
        self.report_applied = report_applied
        self.fail_saves = fail_saves
        self.node: Optional[synod.Node] = None
        self.before_install: Optional[Callable[[], object]] = None

    def start(self, config: synod.Config, **kwargs: object) -> synod.Node:
        self.node = synod.Node(config, on_entry=self.on_entry,
                               on_snapshot_save=self.on_snapshot_save,
                               on_snapshot_install=self.on_snapshot_install, **kwargs)
        return self.node

    def on_entry(self, entry: synod.Entry) -> None:
        with self.cond:
            if entry.index <= self.applied.get(entry.partition, 0):
                self.problems.append(f"entry {entry.index} after {self.applied[entry.partition]}")
            key, value = entry.data.decode().split("=", 1)
            self.state.setdefault(entry.partition, {})[key] = value
            self.applied[entry.partition] = entry.index
            if entry.partition == 1:
                self.order.append(("entry", entry.index))
            self.cond.notify_all()
        if self.report_applied:
            self.node.report_applied(entry.partition, entry.index)

    def on_snapshot_save(self, writer: synod.SnapshotWriter) -> None:
        with self.cond:
            self.saves.append(writer)
            self.cond.notify_all()
        if self.fail_saves:
            writer.write(b"half a state")
            raise OSError("the host's disk is full")
        data = json.dumps(self.state.get(writer.partition, {})).encode()
        # Through a small buffer, so the snapshot spans many writes.
        with io.BufferedWriter(writer, buffer_size=16) as out:
            out.write(data)
        assert writer.closed

    def on_snapshot_install(self, reader: synod.SnapshotReader) -> None:
        if self.before_install is not None:
            self.before_install()
        try:
            data = reader.read()
        except synod.StorageError as e:
            with self.cond:
                self.install_errors.append(e)
                self.cond.notify_all()
            raise
        if len(data) != reader.size:
            self.problems.append(f"read {len(data)} of {reader.size} bytes")
        with self.cond:
            self.installs.append(reader)
            self.state[reader.partition] = json.loads(data)
            self.applied[reader.partition] = reader.index
            if reader.partition == 1:
                self.order.append(("install", reader.index))
            self.cond.notify_all()

    def wait(self, predicate, what: str) -> None:
        with self.cond:
            assert self.cond.wait_for(predicate, WAIT), f"node {self.node.id}: {what}"


def poll_until(predicate: Callable[[], bool], what: str) -> None:
    """Checks ``predicate`` until it holds, at most WAIT seconds."""
    deadline = time.monotonic() + WAIT
    while not predicate():
        assert time.monotonic() < deadline, what
        threading.Event().wait(0.01)


def write(leader: synod.Node, first: int, count: int) -> int:
    """Entries b"k<i % 5>=<i>" to partition 1; the index of the last."""
    last = 0
    for i in range(first, first + count):
        last = leader.replicate_sync(1, 1, f"k{i % 5}={i}".encode()).index
    return last


def request_snapshot_while_writing(node: synod.Node, first: int) -> "int | BaseException":
    """Requests a snapshot of partition 1 from another thread while writing entries (a
    requested snapshot is taken at an index the partition applies); the snapshot's
    index, or the error it failed with."""
    outcome: list["int | BaseException"] = []

    def request() -> None:
        try:
            outcome.append(node.request_snapshot_sync(1, timeout=WAIT))
        except synod.SynodError as e:
            outcome.append(e)

    thread = threading.Thread(target=request)
    thread.start()
    for i in range(first, first + 200):
        write(node, i, 1)
        thread.join(0.05)
        if not thread.is_alive():
            break
    thread.join(WAIT)
    assert outcome, "request_snapshot_sync did not return"
    return outcome[0]


class SnapshotCluster:
    """Three nodes on one network, each with a MapHost."""

    def __init__(self, **config: object) -> None:
        self.net = synod.Network()
        self.config = {**FAST, **config}
        self.hosts: dict[int, MapHost] = {}
        for node_id in (1, 2, 3):
            self.start(node_id)

    def start(self, node_id: int) -> MapHost:
        host = MapHost(report_applied=self.config.get("state_machine") == "durable")
        cfg = synod.Config(node_id=node_id, members=[1, 2, 3], network=self.net, seed=node_id,
                           **self.config)
        host.start(cfg)
        self.hosts[node_id] = host
        return host

    def leader(self) -> synod.Node:
        node_id = self.hosts[1].node.wait_for_leader(1, WAIT)
        leader = self.hosts[node_id].node
        poll_until(lambda: leader.is_leader(1), f"node {node_id} leads")
        return leader

    def close(self) -> None:
        for host in self.hosts.values():
            host.node.close()
        self.net.close()


@pytest.fixture
def snapshot_cluster():
    made: list[SnapshotCluster] = []

    def make(**config: object) -> SnapshotCluster:
        made.append(SnapshotCluster(**config))
        return made[-1]

    yield make
    for c in made:
        c.close()


# -- settings --------------------------------------------------------------------------

def test_snapshot_settings_are_checked():
    with pytest.raises(ValueError, match="state_machine"):
        synod.Config(node_id=1, state_machine="on_disk").to_native()
    with pytest.raises(TypeError):
        synod.Config(node_id=1, state_machine=1).to_native()
    with pytest.raises(ValueError, match="snapshot_keep_entries"):
        synod.Config(node_id=1, snapshot_keep_entries=-1).to_native()
    with pytest.raises(TypeError, match="snapshot_every_entries"):
        synod.Config(node_id=1, snapshot_every_entries=1.5).to_native()
    synod.Config(node_id=1, state_machine="durable", snapshot_keep_entries=0).to_native()
    with pytest.raises(synod.ConfigError, match="durable"):
        synod.Node(synod.Config(node_id=1, state_machine="durable", snapshot_every_entries=10))
    with pytest.raises(TypeError, match="on_snapshot_save"):
        synod.Node(synod.Config(node_id=1), on_snapshot_save=42)


# -- in-memory model -------------------------------------------------------------------

def test_in_memory_cluster_compacts_and_a_wiped_follower_installs_the_leaders_snapshot(
        snapshot_cluster):
    c = snapshot_cluster(snapshot_every_entries=5, snapshot_keep_entries=2)
    leader = c.leader()
    last = write(leader, 0, 20)
    for host in c.hosts.values():
        host.wait(lambda: host.applied.get(1, 0) >= last, "entries applied")
        # At least one save: a follower that lags applies its entries in larger batches,
        # and the policy counts entries since its last save, not the batches.
        host.wait(lambda: host.saves, "a policy save")
        assert {w.reason for w in host.saves} == {"policy"}

    wiped = 3 if leader.id != 3 else 2
    c.hosts[wiped].node.close()
    write(leader, 20, 12)
    rejoined = c.start(wiped)  # an empty memory store: everything was lost
    last = write(leader, 32, 3)
    for host in c.hosts.values():
        host.wait(lambda: host.applied.get(1, 0) >= last, "caught up")
    assert rejoined.state[1] == c.hosts[leader.id].state[1]
    assert rejoined.state[1]["k4"] == "34"
    assert rejoined.order[0][0] == "install"
    assert rejoined.installs[0].from_leader
    assert all(index > rejoined.order[0][1] for _, index in rejoined.order[1:])
    assert all(not h.problems for h in c.hosts.values()), [h.problems for h in c.hosts.values()]


def test_restart_reinstalls_its_own_snapshot_then_later_entries(tmp_path: Path):
    def config() -> synod.Config:
        return synod.Config(node_id=1, storage="rocksdb", directory=tmp_path,
                            snapshot_every_entries=4, snapshot_keep_entries=1, **FAST)

    first = MapHost()
    with first.start(config()) as node:
        node.wait_for_leader(1, WAIT)
        last = write(node, 0, 10)
        first.wait(lambda: first.applied.get(1, 0) >= last and first.saves, "a save")
        # A policy save finished just before the close may not be recorded yet (the
        # restart then installs the one before it); a requested one is, once answered.
        saved_at = node.request_snapshot_sync(1, WAIT)
        last = write(node, 10, 2)  # fewer than the policy's 4: these stay above it
        first.wait(lambda: first.applied.get(1, 0) >= last, "applied")
    second = MapHost()
    with second.start(config()):
        second.wait(lambda: second.applied.get(1, 0) >= last, "restarted")
        assert second.order[0][0] == "install" and second.order[0][1] >= saved_at
        assert not second.installs[0].from_leader
        later = [i for kind, i in second.order[1:]]
        assert all(kind == "entry" for kind, _ in second.order[1:])
        assert later == sorted(later) and later[-1] == last
        assert all(i > second.order[0][1] for i in later)
        assert second.state == first.state
        assert not second.problems


# -- durable model ---------------------------------------------------------------------

def test_durable_model_exports_for_a_follower_behind_the_compacted_log(snapshot_cluster):
    c = snapshot_cluster(state_machine="durable", snapshot_keep_entries=2)
    leader = c.leader()
    last = write(leader, 0, 20)
    for host in c.hosts.values():
        host.wait(lambda: host.applied.get(1, 0) >= last, "applied")
        assert not host.saves
    wiped = 3 if leader.id != 3 else 2
    c.hosts[wiped].node.close()
    write(leader, 20, 10)
    rejoined = c.start(wiped)
    last = write(leader, 30, 3)
    # The leader's host too: a write is answered once committed, and its host applies it
    # from its event queue a moment later.
    for host in (rejoined, c.hosts[leader.id]):
        host.wait(lambda: host.applied.get(1, 0) >= last, "caught up")
    assert rejoined.state[1] == c.hosts[leader.id].state[1]
    assert rejoined.order[0][0] == "install" and rejoined.installs[0].from_leader
    assert "export" in {w.reason for w in c.hosts[leader.id].saves}


# -- requests and failures -------------------------------------------------------------

def test_request_snapshot_from_asyncio_with_a_coroutine_install():
    async def main() -> None:
        state: dict[str, str] = {}
        saved = asyncio.Event()

        def on_entry(entry: synod.Entry) -> None:
            key, value = entry.data.decode().split("=", 1)
            state[key] = value

        async def on_save(writer: synod.SnapshotWriter) -> None:
            data = json.dumps(state).encode()  # taken before the first await
            await asyncio.sleep(0)
            writer.write(data)
            saved.set()

        cfg = synod.Config(node_id=1, **FAST)
        async with synod.Node(cfg, on_entry=on_entry, on_snapshot_save=on_save) as node:
            await node.wait_for_leader_async(1, WAIT)
            await node.replicate(1, 1, b"a=1")
            request = asyncio.ensure_future(node.request_snapshot(1))
            replicated = await node.replicate(1, 1, b"b=2")
            index = await asyncio.wait_for(request, WAIT)
            assert saved.is_set()
            assert index >= replicated.index - 1
            with pytest.raises(synod.UnknownPartitionError):
                await node.request_snapshot(99)
            with pytest.raises(RuntimeError, match="await"):
                node.request_snapshot_sync(1)

    asyncio.run(main())


def test_a_save_that_raises_fails_the_request_and_is_not_kept(tmp_path: Path):
    def config() -> synod.Config:
        return synod.Config(node_id=1, storage="rocksdb", directory=tmp_path, **FAST)

    host = MapHost(fail_saves=True)
    with host.start(config(), threaded=True) as node:
        node.wait_for_leader(1, WAIT)
        write(node, 0, 3)
        outcome = request_snapshot_while_writing(node, 3)
        assert isinstance(outcome, synod.SynodError), outcome
        last = host.applied[1]
        assert host.saves[0].reason == "requested"
    again = MapHost()
    with again.start(config()):
        again.wait(lambda: again.applied.get(1, 0) >= last, "entries again")
        assert not again.installs
        assert again.order == host.order


def damage_snapshot_files(directory: Path) -> int:
    """Flips a byte in the middle of every snapshot file; how many it damaged."""
    damaged = 0
    for path in (directory / "snapshots").rglob("*"):
        if path.is_file() and path.stat().st_size >= 1024:
            with open(path, "r+b") as f:
                f.seek(path.stat().st_size // 2)
                byte = f.read(1)[0]
                f.seek(-1, io.SEEK_CUR)
                f.write(bytes([byte ^ 0x5A]))
            damaged += 1
    return damaged


def test_snapshot_damaged_during_the_install_raises_storage_error(tmp_path: Path, caplog):
    caplog.set_level("DEBUG", logger="synod")

    def config() -> synod.Config:
        return synod.Config(node_id=1, storage="rocksdb", directory=tmp_path, **FAST)

    host = MapHost()
    with host.start(config()) as node:
        node.wait_for_leader(1, WAIT)
        for i in range(40):
            node.replicate_sync(1, 1, f"key-{i}={'v' * 5000}".encode())
        assert isinstance(request_snapshot_while_writing(node, 0), int)
    again = MapHost()
    # The node checked the file before handing it over; damaged now, it fails as it is read.
    again.before_install = lambda: damage_snapshot_files(tmp_path)
    with again.start(config()) as node:
        again.wait(lambda: again.install_errors, "the damaged install")
        assert isinstance(again.install_errors[0], synod.StorageError)
        assert not again.installs and 1 not in again.state
        poll_until(lambda: any(p.get("storage_error") for p in node.status()["partitions"]
                               if p["partition"] == 1), "partition 1 halted")
        with pytest.raises(synod.StorageError):
            node.replicate_sync(1, 1, b"k=v")

        # The engine's log line reaches `logging` with node, partition and term as fields.
        def halted() -> list:
            return [r for r in list(caplog.records)
                    if r.name == "synod" and "partition 1 halted" in r.getMessage()]
        poll_until(halted, "the halt logged")
        record = halted()[0]
        assert record.levelname == "ERROR"
        assert (record.synod_node, record.synod_partition) == (1, 1)
        assert isinstance(record.synod_term, int) and record.synod_term >= 1
