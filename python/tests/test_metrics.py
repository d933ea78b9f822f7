"""node.metrics() and node.metrics_text(): real values after a workload on a 3-node cluster."""

from __future__ import annotations

import math
import re
import time

import pytest

import synod
from conftest import WAIT

COMMIT = "synod_proposal_commit_latency_seconds"
APPLY = "synod_proposal_apply_latency_seconds"
READ = "synod_read_index_latency_seconds"


def _eventually(node: synod.Node, ok) -> dict:
    """node.metrics() once `ok` holds for it. The engine adds a cycle's request latencies
    at the end of the cycle, just after answering the requests, so a histogram may count a
    request a moment after its caller has the answer."""
    deadline = time.monotonic() + WAIT
    while True:
        metrics = node.metrics()
        if ok(metrics):
            return metrics
        assert time.monotonic() < deadline, "the metrics did not reach the expected values"
        time.sleep(0.005)


def _check_histogram(h: synod.Histogram) -> None:
    assert set(h) == {"buckets", "sum", "count"}
    bounds = list(h["buckets"])
    assert bounds == sorted(bounds) and bounds[-1] == math.inf
    counts = list(h["buckets"].values())
    assert counts == sorted(counts), "buckets are cumulative"
    assert counts[-1] == h["count"]
    assert isinstance(h["count"], int) and isinstance(h["sum"], float)


def test_metrics_count_proposals_and_reads_and_grow(cluster):
    c = cluster()
    leader = c.wait_leader()
    before = leader.metrics()
    for i in range(10):
        leader.replicate_sync(1, 1, b"m%d" % i)
    leader.read_index_sync(1)
    start = before.get(COMMIT, {"count": 0})["count"]
    after = _eventually(leader, lambda m: m[COMMIT]["count"] >= start + 10
                        and m[APPLY]["count"] >= 10 and m[READ]["count"] >= 1)

    for name in (COMMIT, APPLY, READ, "synod_storage_sync_duration_seconds",
                 "synod_cycle_duration_seconds", "synod_storage_batch_entries"):
        _check_histogram(after[name])
    assert after[COMMIT]["sum"] > 0.0
    assert after["synod_storage_entries_total"] >= before["synod_storage_entries_total"] + 10
    assert isinstance(after["synod_storage_entries_total"], int)
    assert after["synod_elections_won_total"][1] >= 1

    # Labelled series: partition ids and peers are ints, other labels str.
    term = leader.status()["partitions"]
    term = next(p["term"] for p in term if p["partition"] == 1)
    assert after["synod_partition_term"][1] == term
    for node in c.nodes.values():
        assert node.metrics()["synod_partition_leader"][1] == leader.id
    lag = after["synod_follower_match_lag"]
    assert {peer for (partition, peer) in lag if partition == 1} == {
        n.id for n in c.followers(leader)}
    assert "active" in after["synod_partitions"]

    # More proposals, larger values.
    for i in range(5):
        leader.replicate_sync(1, 1, b"n%d" % i)
    again = _eventually(leader, lambda m: m[COMMIT]["count"] >= after[COMMIT]["count"] + 5)
    assert again["synod_storage_entries_total"] >= after["synod_storage_entries_total"] + 5


def _text_value(text: str, series: str) -> float:
    match = re.search(r"^" + re.escape(series) + r" (\S+)$", text, re.MULTILINE)
    assert match, f"{series} not in the text"
    return float(match.group(1))


def test_metrics_text_is_prometheus_and_agrees_with_the_dict(cluster):
    c = cluster()
    leader = c.wait_leader()
    for i in range(3):
        leader.replicate_sync(1, 1, b"t%d" % i)
    _eventually(leader, lambda m: m[COMMIT]["count"] >= 3)
    # Nothing is proposed from here on, so the two reads agree on the proposal counts.
    text = leader.metrics_text()
    values = leader.metrics()
    assert f"# TYPE {COMMIT} histogram" in text
    assert _text_value(text, COMMIT + "_count") == values[COMMIT]["count"] >= 3
    assert _text_value(text, f'{COMMIT}_bucket{{le="+Inf"}}') == values[COMMIT]["count"]
    assert _text_value(text, 'synod_partition_leader{partition="1"}') == leader.id
    # The text has exactly the families with samples.
    assert set(re.findall(r"^# TYPE (\S+) ", text, re.MULTILINE)) == {
        name for name, value in values.items() if value != {}}
    assert all(name.startswith("synod_") for name in values)


def test_metrics_of_a_closed_node_raise_shutting_down(cluster):
    c = cluster(1)
    node = c.nodes[1]
    node.close()
    with pytest.raises(synod.ShuttingDownError):
        node.metrics()
    with pytest.raises(synod.ShuttingDownError):
        node.metrics_text()
