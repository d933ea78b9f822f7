"""The Python node of the four-language cluster (tests/polyglot/README.md has the protocol).

    python3 polyglot_node.py <node id> <members, comma-separated> <tick ms> <election ticks>

Starts a node on gRPC 127.0.0.1:0 and prints "ready <port>". Commands arrive on stdin, one
a line, each answered by one line on stdout; the node's dispatch thread prints the
committed entries and the leader changes of partition 1 as they come. Log types are the
package's own: ``str`` or ``int`` (bindings/LOG_TYPES.md).
"""

from __future__ import annotations

import sys
import threading

import synod

PARTITION = 1
_out = threading.Lock()


def emit(line: str) -> None:
    with _out:
        sys.stdout.write(line + "\n")
        sys.stdout.flush()


def to_hex(data: bytes) -> str:
    return data.hex() if data else "-"


def from_hex(text: str) -> bytes:
    return b"" if text == "-" else bytes.fromhex(text)


def on_entry(entry: synod.Entry) -> None:
    if entry.partition != PARTITION:
        return
    if isinstance(entry.type, str):
        kind = f"s {to_hex(entry.type.encode('utf-8'))}"
    else:
        kind = f"n {entry.type}"
    emit(f"entry {entry.index} {entry.term} {kind} {to_hex(bytes(entry.data))}")


def on_leader_change(change: synod.LeaderChange) -> None:
    if change.partition == PARTITION:
        emit(f"leader {change.leader or 0}")


def serve(node: synod.Node) -> None:
    for line in sys.stdin:
        words = line.split()
        if not words:
            continue
        command = words[0]
        try:
            if command == "quit":
                return
            if command == "peer" and len(words) == 3:
                node.set_peer_address(int(words[1]), words[2])
                emit("ok")
            elif command == "transfer" and len(words) == 2:
                node.transfer_leadership(PARTITION, int(words[1]))
                emit("ok")
            elif command == "write" and len(words) == 4:
                kind, type_text, data = words[1], words[2], from_hex(words[3])
                log_type = from_hex(type_text).decode("utf-8") if kind == "s" else int(type_text)
                result = node.replicate_sync(PARTITION, log_type, data)
                emit(f"ok {result.index}")
            else:
                emit("error unknown command")
        except (synod.SynodError, ValueError) as e:
            emit(f"error {type(e).__name__}: {e}".replace("\n", " "))


def main() -> int:
    if len(sys.argv) != 5:
        print(f"usage: {sys.argv[0]} <node id> <members> <tick ms> <election ticks>",
              file=sys.stderr)
        return 2
    config = synod.Config(node_id=int(sys.argv[1]),
                          members=[int(m) for m in sys.argv[2].split(",")],
                          tick_interval_ms=int(sys.argv[3]),
                          election_ticks=int(sys.argv[4]),
                          grpc_listen="127.0.0.1:0")
    with synod.Node(config, on_entry=on_entry, on_leader_change=on_leader_change,
                    threaded=True) as node:
        emit(f"ready {node.listen_port}")
        serve(node)
    emit("ok")
    return 0


if __name__ == "__main__":
    sys.exit(main())
