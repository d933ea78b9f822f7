"""3-node clusters over the network transports on 127.0.0.1 (gRPC and REST, plain text
and with a shared secret): listen on port 0, then exchange addresses."""

from __future__ import annotations

import logging
import threading
import time

import pytest

import synod
from conftest import FAST, WAIT

SECRET = b"a cluster secret of 32 bytes...."


def _start(transport: str, secrets: list, on_leader_change) -> list:
    nodes = []
    for node_id, secret in zip((1, 2, 3), secrets):
        listen = {f"{transport}_listen": "127.0.0.1:0"}
        cfg = synod.Config(node_id=node_id, members=[1, 2, 3], seed=node_id,
                           shared_secret=secret, **listen, **FAST)
        nodes.append(synod.Node(cfg, on_leader_change=on_leader_change))
    ports = {n.id: n.listen_port for n in nodes}
    assert all(0 < p < 65536 for p in ports.values()) and len(set(ports.values())) == 3
    for n in nodes:
        for peer, port in ports.items():
            if peer != n.id:
                n.set_peer_address(peer, f"127.0.0.1:{port}")
    return nodes


@pytest.mark.parametrize("transport", ["grpc", "rest"])
@pytest.mark.parametrize("secret", [None, SECRET], ids=["plain", "shared-secret"])
def test_three_nodes_over_the_network(transport, secret, caplog):
    cond = threading.Condition()

    def changed(change: synod.LeaderChange) -> None:
        with cond:
            cond.notify_all()

    caplog.set_level(logging.WARNING, logger="synod")
    nodes = _start(transport, [secret] * 3, changed)
    try:
        def agreed() -> bool:
            views = {n.leader(1) for n in nodes}
            return len(views) == 1 and None not in views

        with cond:
            assert cond.wait_for(agreed, WAIT), f"no leader agreed over {transport}"
        leader = next(n for n in nodes if n.is_leader(1))
        payloads = [b"over %s %d" % (transport.encode(), i) for i in range(10)]
        results = [leader.replicate_sync(1, 1, p) for p in payloads]
        assert leader.read_index_sync(1) >= results[-1].index
        for n in nodes:
            got = [next(n.entries(timeout=WAIT)) for _ in payloads]
            assert [(e.index, e.data) for e in got] == [(r.index, p)
                                                        for r, p in zip(results, payloads)]
        assert leader.status()["transport"]["batches_sent"] > 0
    finally:
        for n in nodes:
            n.close()
    warned = any("plain text" in r.getMessage() for r in caplog.records)
    assert warned == (secret is None)


def test_a_node_with_the_wrong_secret_is_refused():
    nodes = _start("rest", [SECRET, SECRET, b"another secret of 32 bytes......"], lambda c: None)
    try:
        leader_id = nodes[0].wait_for_leader(1, timeout=WAIT)
        assert leader_id in (1, 2)
        leader = nodes[leader_id - 1]
        written = leader.replicate_sync(1, 1, b"kept from the stranger")
        deadline = time.monotonic() + WAIT
        while leader.status()["transport"]["refused_bad_signature"] == 0:
            assert time.monotonic() < deadline, "the stranger's batches were not refused"
            time.sleep(0.05)
        stranger = next(p for p in nodes[2].status()["partitions"] if p["partition"] == 1)
        assert stranger["last_index"] < written.index
    finally:
        for n in nodes:
            n.close()


def test_security_settings_are_checked():
    with pytest.raises(ValueError):
        synod.Config(node_id=1, grpc_listen="127.0.0.1:0", rest_listen="127.0.0.1:0").to_native()
    with pytest.raises(ValueError):
        synod.Config(node_id=1, shared_secret=SECRET,
                     tls=synod.Tls("ca.pem", "cert.pem", "key.pem")).to_native()
    with pytest.raises(TypeError):
        synod.Config(node_id=1, shared_secret="not bytes").to_native()
    with pytest.raises(synod.InvalidArgumentError):
        synod.Config(node_id=1, shared_secret=b"short").to_native()
    cfg = synod.Config(node_id=1, rest_listen="127.0.0.1:0",
                       tls=synod.Tls("/nonexistent/ca.pem", "/nonexistent/c.pem",
                                     "/nonexistent/k.pem", mutual=True))
    with pytest.raises(synod.TransportError):
        synod.Node(cfg)
