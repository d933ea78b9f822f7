"""The partition map: create and remove partitions at runtime, read the map, route keys."""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import pytest

import synod
from conftest import WAIT, Cluster

VECTORS = Path(__file__).resolve().parents[2] / "bindings" / "routing_vectors.json"


def eventually(predicate, timeout: float = WAIT) -> None:
    """Polls ``predicate`` (a state the engine reaches on its own threads) until it holds."""
    deadline = time.monotonic() + timeout
    while not predicate():
        assert time.monotonic() < deadline, "condition not met in time"
        time.sleep(0.005)


def test_bootstrap_map_and_routing_follow_the_shared_vectors(cluster):
    c = cluster(user_partitions=3)
    leader = c.wait_leader(0)
    m = leader.partition_map()
    assert m.version == 1 and m.next_id == 4
    vectors = json.loads(VECTORS.read_text())
    ranges = [(int(lo, 16), int(hi, 16)) for lo, hi in vectors["bootstrap_ranges"]["3"]]
    assert [(p.id, p.state, p.mode, p.lo, p.hi, p.generation) for p in m.partitions] == [
        (i + 1, "active", synod.HASH_RANGE, lo, hi, 1) for i, (lo, hi) in enumerate(ranges)]
    for node in c.nodes.values():
        for k in vectors["keys"]:
            key = bytes.fromhex(k["key_hex"])
            route = node.route(key)
            assert route == synod.Route(k["partition"]["3"], 1, "active"), k
            if "key_utf8" in k:
                assert node.route(k["key_utf8"]) == route
            assert node.route_hash(int(k["hash"], 16)) == route
    assert leader.route_hash(2**64 - 1).partition == 3
    with pytest.raises(ValueError):
        leader.route_hash(2**64)


def test_create_and_remove_an_unrouted_partition_sync(cluster):
    c = cluster()
    leader = c.wait_leader(0)
    version = leader.partition_map().version
    change = leader.create_partition_sync(synod.UNROUTED, expected_version=version)
    assert change.partition == 2 and change.map_version == version + 1 and change.index > 0
    for node in c.nodes.values():
        eventually(lambda: 2 in node.partitions() and node.partition_map().version == version + 1)
        assert node.partition_map().get(2) == synod.PartitionInfo(
            2, "active", synod.UNROUTED, 0, 0, 1, 0)

    # Entries flow through the new partition.
    p_leader = c.wait_leader(2)
    assert p_leader.replicate_sync(2, 1, b"hello").index > 0

    with pytest.raises(synod.StaleMapVersionError) as info:
        leader.remove_partition_sync(2, expected_version=version)
    assert info.value.reason == "stale map version"
    assert info.value.map_version == version + 1

    removed = leader.remove_partition_sync(2, expected_version=version + 1)
    assert removed.partition == 2 and removed.map_version == version + 2
    for node in c.nodes.values():
        eventually(lambda: 2 not in node.partitions())
        assert node.partition_map().get(2).state == "removed"
    # Ids are never reused.
    assert leader.create_partition_sync().partition == 3


def test_map_refusals_raise_their_status(cluster):
    c = cluster(user_partitions=2)
    leader = c.wait_leader(0)
    with pytest.raises(synod.MapConflictError) as info:
        leader.create_partition_sync(synod.HASH_RANGE, 10, 20)
    assert info.value.reason == "overlapping ranges"
    with pytest.raises(synod.MapConflictError):
        leader.remove_partition_sync(1)  # hash-range: merge it instead
    with pytest.raises(synod.UnknownPartitionError):
        leader.remove_partition_sync(99)
    with pytest.raises(synod.SystemPartitionError):
        leader.remove_partition_sync(0)
    with pytest.raises(synod.InvalidArgumentError):
        leader.create_partition_sync(synod.HASH_RANGE, 5, 4)
    with pytest.raises(synod.InvalidArgumentError):
        leader.create_partition_sync("sideways")
    follower = c.followers(leader)[0]
    with pytest.raises(synod.NotLeaderError) as refused:
        follower.create_partition_sync()
    assert refused.value.leader_hint == leader.id
    assert leader.partition_map().version == 1


def test_create_and_remove_in_asyncio_mode():
    async def main():
        c = Cluster(3)
        try:
            leader = await asyncio.to_thread(c.wait_leader, 0)
            created = await leader.create_partition(synod.UNROUTED)
            assert created.partition == 2
            with pytest.raises(synod.StaleMapVersionError):
                await leader.remove_partition(2, expected_version=1)
            removed = await leader.remove_partition(2, expected_version=created.map_version)
            assert removed.map_version == created.map_version + 1
            assert leader.partition_map().get(2).state == "removed"
        finally:
            c.close()
    asyncio.run(main())
