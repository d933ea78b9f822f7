#!/usr/bin/python3
"""Writes bindings/routing_vectors.json, the shared test vectors of key routing
(bindings/ROUTING.md).

The hashes come from the reference xxHash library (libxxhash, Debian package
libxxhash0), not from Synod's own code, so the vectors check our implementation and
every binding's against an independent one. The partitions follow the bootstrap ranges
of ROUTING.md, computed here with Python's unbounded integers.

Run by hand when vectors are added: scripts/routing_vectors.py > bindings/routing_vectors.json
"""
import ctypes
import json
import sys

SPACE = 1 << 64
# Bootstrap partition counts the vectors route for.
COUNTS = [1, 2, 3, 7, 16]


def xxh64(data: bytes) -> int:
    lib = ctypes.CDLL("libxxhash.so.0")
    lib.XXH64.restype = ctypes.c_uint64
    lib.XXH64.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint64]
    return lib.XXH64(data, len(data), 0)


def bootstrap_ranges(n: int) -> list[tuple[int, int]]:
    return [(i * SPACE // n, (i + 1) * SPACE // n - 1) for i in range(n)]


def partition_of(h: int, n: int) -> int:
    for i, (lo, hi) in enumerate(bootstrap_ranges(n)):
        if lo <= h <= hi:
            return i + 1
    raise AssertionError("ranges do not cover the space")


def keys() -> list[bytes]:
    out = [b"", b"a", b"ab", b"abc", b"abcd", b"hello", b"key-1", b"key-2", b"user:42",
           "ключ".encode(), "🔑".encode(), b"\x00", b"\xff" * 3, b"\x00\x01\x02\x03\x04\x05\x06"]
    # Every length up to 70 crosses each step of the algorithm (1-, 4- and 8-byte tails,
    # the 32-byte stripes) and their boundaries.
    out += [bytes((i * 7 + 1) & 0xFF for i in range(n)) for n in range(8, 71)]
    out += [b"x" * 1000, b"The quick brown fox jumps over the lazy dog"]
    return out


def hex64(v: int) -> str:
    return f"{v:016x}"


def main() -> None:
    vectors = []
    for key in keys():
        h = xxh64(key)
        v = {"key_hex": key.hex()}
        try:
            v["key_utf8"] = key.decode("utf-8")
        except UnicodeDecodeError:
            pass
        v["hash"] = hex64(h)
        v["partition"] = {str(n): partition_of(h, n) for n in COUNTS}
        vectors.append(v)
    # Hashes on and next to range boundaries, where a shortcut such as (h * n) >> 64
    # would pick the wrong partition.
    edges = []
    for n in COUNTS:
        for lo, hi in bootstrap_ranges(n):
            for h in {lo, hi, max(lo - 1, 0), min(hi + 1, SPACE - 1)}:
                edges.append({"partitions": n, "hash": hex64(h), "partition": partition_of(h, n)})
    doc = {
        "about": "Key routing test vectors; see bindings/ROUTING.md. Hashes and ranges are "
                 "16 hex digits (64-bit unsigned, big-endian digits).",
        "hash_function": "XXH64, seed 0",
        "bootstrap_ranges": {str(n): [[hex64(lo), hex64(hi)] for lo, hi in bootstrap_ranges(n)]
                             for n in COUNTS},
        "keys": vectors,
        "boundaries": sorted(edges, key=lambda e: (e["partitions"], e["hash"])),
    }
    # One vector (or one partition count's ranges) a line, so that diffs stay readable.
    out = sys.stdout
    out.write("{\n")
    items = list(doc.items())
    for i, (name, value) in enumerate(items):
        out.write(f" {json.dumps(name)}: ")
        if isinstance(value, dict):
            rows = [f"  {json.dumps(k)}: {json.dumps(v)}" for k, v in value.items()]
            out.write("{\n" + ",\n".join(rows) + "\n }")
        elif isinstance(value, list):
            rows = ["  " + json.dumps(v, ensure_ascii=False) for v in value]
            out.write("[\n" + ",\n".join(rows) + "\n ]")
        else:
            out.write(json.dumps(value))
        out.write(",\n" if i + 1 < len(items) else "\n")
    out.write("}\n")


if __name__ == "__main__":
    main()
