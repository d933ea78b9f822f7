"""The partition map held by the system partition (0), and key routing
(bindings/ROUTING.md)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Optional

__all__ = ["MapChange", "PartitionInfo", "PartitionMap", "Route", "UNROUTED", "HASH_RANGE"]

UNROUTED = "unrouted"
"""Routing mode of a partition addressed by id only."""
HASH_RANGE = "hash_range"
"""Routing mode of a partition owning the key hashes ``[lo, hi]``."""

_STATES = {0: "active", 1: "splitting", 2: "draining", 3: "removed"}


@dataclass(frozen=True)
class PartitionInfo:
    """One partition of the map. ``state`` is "active", "splitting", "draining" or
    "removed"; ``mode`` :data:`UNROUTED` or :data:`HASH_RANGE`; ``lo``/``hi`` the inclusive
    range of key hashes (0 for unrouted partitions); ``peer`` the other partition of a
    split or merge under way, else 0."""

    id: int
    state: str
    mode: str
    lo: int
    hi: int
    generation: int
    peer: int


@dataclass(frozen=True)
class PartitionMap:
    """The committed map as a node has applied it: its ``version``, the id the next
    created partition gets, and every partition ever created (removed ones included),
    ordered by id."""

    version: int
    next_id: int
    partitions: list[PartitionInfo]

    def get(self, partition: int) -> Optional[PartitionInfo]:
        """The partition with id ``partition``, or None."""
        for p in self.partitions:
            if p.id == partition:
                return p
        return None

    @staticmethod
    def from_json(text: str) -> "PartitionMap":
        doc = json.loads(text)
        return PartitionMap(
            doc["version"], doc["next_id"],
            [PartitionInfo(p["id"], p["state"], p["mode"], p["lo"], p["hi"], p["generation"],
                           p["peer"]) for p in doc["partitions"]])


@dataclass(frozen=True)
class Route:
    """Where a key goes: the partition and the generation to carry with a proposal;
    ``state`` is "active" or "draining" (a draining partition refuses proposals until
    its merge finishes)."""

    partition: int
    generation: int
    state: str

    @staticmethod
    def from_native(raw: Optional[tuple[int, int, int]]) -> Optional["Route"]:
        if raw is None:
            return None
        partition, generation, state = raw
        return Route(partition, generation, _STATES.get(state, str(state)))


@dataclass(frozen=True)
class MapChange:
    """A change of the partition map, applied: the partition created (or removed), the
    map version after the change and the change's index in the log of partition 0."""

    partition: int
    map_version: int
    index: int
