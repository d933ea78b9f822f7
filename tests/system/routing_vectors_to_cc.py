#!/usr/bin/python3
"""Turns bindings/routing_vectors.json into C++ initializers for routing_vectors_test.cc,
so that the C++ test reads the very file the bindings read. Also checks the file's own
consistency: key_utf8, where present, is the UTF-8 of key_hex.

Usage: routing_vectors_to_cc.py <routing_vectors.json> <output.inc>
"""
import json
import sys


def u64(digits: str) -> str:
    if len(digits) != 16:
        raise SystemExit(f"not 16 hex digits: {digits!r}")
    return f"0x{int(digits, 16):016x}ULL"


def main() -> None:
    source, target = sys.argv[1], sys.argv[2]
    with open(source, encoding="utf-8") as f:
        doc = json.load(f)
    lines = ["// Generated from bindings/routing_vectors.json by routing_vectors_to_cc.py.",
             "inline const RangeVector kRangeVectors[] = {"]
    for n, ranges in doc["bootstrap_ranges"].items():
        for i, (lo, hi) in enumerate(ranges):
            lines.append(f"    {{{int(n)}, {i}, {u64(lo)}, {u64(hi)}}},")
    lines += ["};", "inline const KeyVector kKeyVectors[] = {"]
    for v in doc["keys"]:
        key = bytes.fromhex(v["key_hex"])
        if "key_utf8" in v and v["key_utf8"].encode("utf-8") != key:
            raise SystemExit(f"key_utf8 {v['key_utf8']!r} is not key_hex {v['key_hex']}")
        routes = ", ".join(f"{{{int(n)}, {p}}}" for n, p in v["partition"].items())
        lines.append(f'    {{"{v["key_hex"]}", {u64(v["hash"])}, {{{routes}}}}},')
    lines += ["};", "inline const BoundaryVector kBoundaryVectors[] = {"]
    for b in doc["boundaries"]:
        lines.append(f"    {{{int(b['partitions'])}, {u64(b['hash'])}, {b['partition']}}},")
    lines.append("};")
    with open(target, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


if __name__ == "__main__":
    main()
