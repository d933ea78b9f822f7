"""The log type encoding against the vectors every binding shares (bindings/LOG_TYPES.md)."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest

import synod
from conftest import read_entries

VECTORS = Path(__file__).resolve().parents[2] / "bindings" / "log_type_vectors.txt"


def _hex(field: str) -> bytes:
    return b"" if field == "-" else bytes.fromhex(field)


def _type(field: str) -> object:
    """The type a vector names: an int, a str, or the raw bytes of a string that is not
    UTF-8 (no Python str holds those)."""
    if field.startswith("n:"):
        return int(field[2:])
    utf8 = _hex(field[2:] or "-")
    try:
        return utf8.decode("utf-8")
    except UnicodeDecodeError:
        return utf8


def _vectors() -> list[tuple[str, list[str], str]]:
    vectors = []
    for line in VECTORS.read_text(encoding="utf-8").splitlines():
        fields = line.split("#", 1)[0].split()
        if fields:
            vectors.append((fields[0], fields[1:], line))
    return vectors


def test_the_vectors_file_is_whole():
    ops = [op for op, _, _ in _vectors()]
    assert set(ops) == {"both", "decode", "refuse"}
    assert ops.count("both") >= 10 and ops.count("decode") >= 8 and ops.count("refuse") >= 8


@pytest.mark.parametrize("op,fields,line", _vectors(), ids=lambda v: v if isinstance(v, str) and
                         len(v) < 40 else None)
def test_vector(op, fields, line):
    type_ = _type(fields[0])
    if op == "refuse":
        if isinstance(type_, bytes):
            return  # not UTF-8: no str can carry it, which _type just showed
        with pytest.raises(synod.InvalidArgumentError):
            synod.encode_log_type(type_, b"data")
        return
    data, entry_type, payload = _hex(fields[1]), int(fields[2]), _hex(fields[3])
    if op == "both":
        assert synod.encode_log_type(type_, data) == (entry_type, payload), line
    decoded = synod.decode_log_type(entry_type, payload)
    assert decoded == (type_, data), line
    assert type(decoded[0]) is type(type_), line


def test_types_that_are_neither_int_nor_str_are_refused():
    for bad in (True, 1.5, b"bytes", None):
        with pytest.raises(TypeError):
            synod.encode_log_type(bad, b"")


def test_string_and_number_types_round_trip_through_a_cluster(cluster):
    c = cluster()
    leader = c.wait_leader()
    leader.replicate_sync(1, "OrderPlaced", b'{"id":42}')
    asyncio.run(leader.replicate_batch(1, [(7, b"\x01\x02"), ("\u00dcn\u00efc\u00f8d\u00e9", b"")]))
    with pytest.raises(synod.InvalidArgumentError):
        leader.replicate_sync(1, "", b"x")
    for node in c.nodes.values():
        got = read_entries(node, 3)
        assert [(e.type, e.data) for e in got] == [
            ("OrderPlaced", b'{"id":42}'), (7, b"\x01\x02"), ("\u00dcn\u00efc\u00f8d\u00e9", b"")]
