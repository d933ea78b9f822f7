"""Bad input raises the right exceptions; closed nodes refuse calls; close is idempotent."""

from __future__ import annotations

import asyncio
import builtins

import pytest

import synod
from conftest import FAST, WAIT


@pytest.fixture
def node():
    cfg = synod.Config(node_id=1, members=[1], network=synod.Network(),
                       max_payload_bytes=1024, **FAST)
    with synod.Node(cfg) as n:
        n.wait_for_leader(1, WAIT)
        yield n


def test_exception_hierarchy():
    assert issubclass(synod.TimeoutError, builtins.TimeoutError)
    assert issubclass(synod.InvalidArgumentError, ValueError)
    for cls in (synod.NotLeaderError, synod.NoLeaderError, synod.UnknownPartitionError,
                synod.PayloadTooLargeError, synod.QueueFullError, synod.TimeoutError,
                synod.ShuttingDownError, synod.DroppedError, synod.StorageError,
                synod.ConfigError, synod.TransportError, synod.InvalidArgumentError,
                synod.ConfChangePendingError):
        assert issubclass(cls, synod.SynodError)
        assert isinstance(cls.status, synod.Status)


def test_every_status_has_an_exported_class_and_library_text():
    # Each code libsynod knows raises its own class, exported by the package, and the
    # library names it (the codes themselves are checked against the status table by
    # tests/status).
    for status in synod.Status:
        if status == synod.Status.OK:
            continue
        text = synod._synod.errstr(status)
        assert text != "unknown status", status
        error = synod._errors.error_from_status(status, text)
        assert type(error) is not synod.SynodError, status
        assert getattr(synod, type(error).__name__) is type(error)
        assert error.status is status and error.message == text


def test_conf_change_pending():
    assert synod.Status.CONF_CHANGE_PENDING == -16
    assert synod._synod.errstr(-16) == "a membership change is already in progress"
    error = synod._errors.error_from_status(-16, "partition 3: a membership change is pending")
    assert isinstance(error, synod.ConfChangePendingError)
    assert error.status is synod.Status.CONF_CHANGE_PENDING
    assert str(error) == "partition 3: a membership change is pending"


def test_wrong_python_types(node):
    with pytest.raises(TypeError):
        node.replicate_sync(1, 1, "text is not bytes")
    with pytest.raises(TypeError):
        node.replicate_sync("1", 1, b"x")
    with pytest.raises(TypeError):
        node.replicate_sync(1, 1.5, b"x")
    with pytest.raises(TypeError):
        node.replicate_sync(1, True, b"x")
    with pytest.raises(ValueError):
        node.replicate_sync(-1, 1, b"x")
    with pytest.raises(ValueError):
        node.replicate_sync(1, 1 << 32, b"x")
    with pytest.raises(TypeError):
        asyncio.run(node.replicate(1, 1, ["not", "bytes"]))
    with pytest.raises(TypeError):
        node.wait_for_leader(1, timeout="soon")
    with pytest.raises(ValueError):
        node.wait_for_leader(1, timeout=-1)
    with pytest.raises(TypeError):
        synod.Node({"node_id": 1})
    with pytest.raises(TypeError):
        synod.Node(synod.Config(node_id="1", members=[1]))
    with pytest.raises(TypeError):
        synod.Node(synod.Config(node_id=1, members=[1], network="net"))
    with pytest.raises(TypeError):
        synod.Node(synod.Config(node_id=1, members=[1]), on_entry="not callable")
    with pytest.raises(ValueError):
        synod.Node(synod.Config(node_id=0, members=[1]))
    with pytest.raises(TypeError):
        synod.Network().isolate("2")


def test_bytes_like_payloads_are_accepted(node):
    for data in (b"bytes", bytearray(b"bytearray"), memoryview(b"memoryview"), b""):
        node.replicate_sync(1, 1, data)
    got = [next(node.entries(timeout=WAIT)).data for _ in range(4)]
    assert got == [b"bytes", b"bytearray", b"memoryview", b""]
    with pytest.raises(ValueError):
        node.replicate_sync(1, 1, memoryview(b"abcdef")[::2])  # not contiguous


def test_entry_type_zero_is_reserved(node):
    with pytest.raises(synod.InvalidArgumentError) as info:
        node.replicate_sync(1, 0, b"x")
    assert isinstance(info.value, ValueError)
    assert info.value.status == synod.Status.INVALID_ARGUMENT
    with pytest.raises(synod.InvalidArgumentError):
        asyncio.run(node.replicate(1, 0, b"x"))
    with pytest.raises(synod.InvalidArgumentError):
        asyncio.run(node.replicate_batch(1, []))


def test_unknown_partition(node):
    for call in (lambda: node.replicate_sync(99, 1, b"x"), lambda: node.read_index_sync(99),
                 lambda: node.is_leader(99), lambda: asyncio.run(node.replicate(99, 1, b"x")),
                 lambda: asyncio.run(node.read_index(99))):
        with pytest.raises(synod.UnknownPartitionError) as info:
            call()
        assert "99" in str(info.value)


def test_oversized_payload(node):
    node.replicate_sync(1, 1, bytes(1024))
    with pytest.raises(synod.PayloadTooLargeError):
        node.replicate_sync(1, 1, bytes(1025))
    with pytest.raises(synod.PayloadTooLargeError):
        asyncio.run(node.replicate(1, 1, bytes(4096)))


def test_no_leader_and_timeouts():
    # One member of three alive: never a leader.
    cfg = synod.Config(node_id=1, members=[1, 2, 3], network=synod.Network(), **FAST)
    with synod.Node(cfg) as lonely:
        with pytest.raises(builtins.TimeoutError):
            lonely.wait_for_leader(1, timeout=0.1)
        with pytest.raises(synod.TimeoutError):
            lonely.wait_for_leader(1, timeout=0.1)
        with pytest.raises(synod.NoLeaderError):
            lonely.replicate_sync(1, 1, b"x")
        with pytest.raises(synod.NoLeaderError):
            asyncio.run(lonely.read_index(1))
        assert lonely.leader(1) is None and not lonely.is_leader(1)


def test_configuration_errors():
    with pytest.raises(synod.ConfigError):
        synod.Node(synod.Config(node_id=4, members=[1, 2, 3]))  # not a member
    with pytest.raises(synod.ConfigError):
        synod.Node(synod.Config(node_id=1, members=[1], election_ticks=2, heartbeat_ticks=2))
    with pytest.raises(synod.InvalidArgumentError) as info:
        synod.Node(synod.Config(node_id=1, members=[1], storage="bogus"))
    assert "Config.storage" in str(info.value)
    with pytest.raises(ValueError):
        synod.Config(node_id=1, network=synod.Network(), grpc_listen="127.0.0.1:0").to_native()
    with pytest.raises(synod.InvalidArgumentError):
        synod.Node(synod.Config(node_id=1, members=[1], max_payload_bytes=1 << 40))


def test_listen_port_needs_grpc(node):
    with pytest.raises(synod.SynodError):
        node.listen_port


def test_calls_after_close_and_closing_twice(node):
    node.close()
    node.close()
    assert node.closed
    calls = [
        lambda: node.replicate_sync(1, 1, b"x"),
        lambda: node.read_index_sync(1),
        lambda: asyncio.run(node.replicate(1, 1, b"x")),
        lambda: asyncio.run(node.read_index(1)),
        lambda: node.is_leader(1),
        lambda: node.leader(1),
        lambda: node.wait_for_leader(1, 1),
        lambda: node.partitions(),
        lambda: node.status(),
        lambda: node.report_applied(1, 1),
        lambda: node.transfer_leadership(1, 2),
    ]
    for call in calls:
        with pytest.raises(synod.ShuttingDownError):
            call()
    assert list(node.entries(timeout=WAIT)) == []
    with node:  # a closed node is still a valid context manager
        pass


def test_network_close_is_idempotent_and_nodes_keep_it():
    net = synod.Network()
    cfg = synod.Config(node_id=1, members=[1], network=net, **FAST)
    with synod.Node(cfg) as n:
        net.close()
        net.close()
        assert net.closed
        n.wait_for_leader(1, WAIT)
        n.replicate_sync(1, 1, b"still works")
    with pytest.raises(synod.SynodError):
        net.isolate(1)



def test_queue_full():
    # A batch is queued whole or refused whole: one larger than the queue never fits.
    cfg = synod.Config(node_id=1, members=[1], network=synod.Network(),
                       max_queued_requests=2, **FAST)
    with synod.Node(cfg) as n:
        n.wait_for_leader(1, WAIT)
        with pytest.raises(synod.QueueFullError) as info:
            asyncio.run(n.replicate_batch(1, [(1, b"a"), (1, b"b"), (1, b"c")]))
        assert info.value.status == synod.Status.QUEUE_FULL
        assert len(asyncio.run(n.replicate_batch(1, [(1, b"a"), (1, b"b")]))) == 2


def test_a_tiny_event_bound_pushes_back_without_losing_an_entry():
    # Two pending events at most: the engine pauses delivery and resumes it all the time.
    cfg = synod.Config(node_id=1, members=[1], network=synod.Network(),
                       max_pending_events=2, **FAST)
    with synod.Node(cfg) as n:
        n.wait_for_leader(1, WAIT)
        written = 0
        for i in range(50):
            try:
                n.replicate_sync(1, 1, b"e%d" % i)
                written += 1
            except synod.QueueFullError:
                pass
        assert written > 0
    with pytest.raises(ValueError):
        synod.Config(node_id=1, members=[1], max_pending_events=1).to_native()
