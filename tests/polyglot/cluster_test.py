"""One cluster of four languages: a C, a Python, a .NET and a Java node, each in its own
process, talking gRPC on 127.0.0.1 (tests/polyglot/README.md).

The driver starts the four node programs (ports picked by the OS), tells each the others'
addresses, then makes each node in turn the leader (leadership transfer) and writes
entries through it, with string and number log types and binary data. It kills the
leader's process with SIGKILL, waits for the survivors to elect a new leader, and writes
through each survivor the same way. Finally every survivor must have applied the same
entries (index, term, log type, data) in the same order; the killed node what it applied
before it died, a prefix of that; every acknowledged write must sit at its index; and
nothing else may appear (each attempt carries a unique payload, so a retried write that
committed twice would show).

Every wait is bounded and event-driven (the node programs' output lines); nothing sleeps.
Exit status 0 on success, 1 on failure, 77 (CTest's SKIP_RETURN_CODE) when a language's
toolchain is absent (--skip).
"""

from __future__ import annotations

import argparse
import os
import queue
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Optional

SKIP = 77
PARTITION_MEMBERS = "1,2,3,4"
# Raft timing of every node: 20 ms ticks, elections after 20 ticks (400 ms, randomized
# up to twice that): four language runtimes on two loaded cores stay stable with it.
TICK_MS = "20"
ELECTION_TICKS = "20"
# Bounds. A step that reaches its bound fails the test.
START_SECONDS = 60.0      # every process printed "ready" (JIT warm-up on a busy machine)
REPLY_SECONDS = 20.0      # a command's reply (a write waits at most its 5 s timeout)
LEADER_SECONDS = 20.0     # the alive nodes agree on a leader
TRANSFER_SECONDS = 5.0    # one attempt to move leadership to a given node
WRITE_SECONDS = 60.0      # one entry acknowledged, retries included
APPLY_SECONDS = 30.0      # every survivor applied through the last acknowledged index
EXIT_SECONDS = 20.0       # a node program closed its node and exited after "quit"


class Failure(Exception):
    pass


@dataclass(frozen=True)
class Applied:
    index: int
    term: int
    kind: str        # "s" (string log type) or "n" (number)
    type: str        # hex of the UTF-8 name, or the decimal number
    data: str        # hex, "-" for none

    def write(self) -> tuple[str, str, str]:
        return (self.kind, self.type, self.data)

    def __str__(self) -> str:
        return f"#{self.index} (term {self.term}) {show(self.write())}"


def show(write: tuple[str, str, str]) -> str:
    """A write, readable: its log type and data decoded, shortened."""
    kind, type_, data = write
    name = bytes.fromhex(type_).decode("utf-8", "replace") if kind == "s" else type_
    payload = b"" if data == "-" else bytes.fromhex(data)
    short = name if len(name) <= 40 else name[:37] + "..."
    return f"type {kind}:{short!r} data {payload[:60]!r}"


@dataclass
class Node:
    node_id: int
    language: str
    argv: list[str]
    env: dict[str, str]
    workdir: str
    process: Optional[subprocess.Popen] = None
    port: int = 0
    leader: int = 0
    alive: bool = True
    eof: bool = False
    replies: list[str] = field(default_factory=list)
    entries: list[Applied] = field(default_factory=list)

    @property
    def name(self) -> str:
        return f"node {self.node_id} ({self.language})"

    @property
    def stderr_path(self) -> str:
        return os.path.join(self.workdir, f"node{self.node_id}-{self.language}.stderr")


class Cluster:
    """The node processes and what their output lines said, advanced by pump()."""

    def __init__(self, nodes: list[Node]) -> None:
        self.nodes = {n.node_id: n for n in nodes}
        self.lines: queue.Queue[tuple[int, Optional[str]]] = queue.Queue()
        self.log: list[str] = []

    # -- processes -----------------------------------------------------------------------

    def start(self) -> None:
        for node in self.nodes.values():
            stderr = open(node.stderr_path, "w", encoding="utf-8")
            try:
                node.process = subprocess.Popen(
                    node.argv + [str(node.node_id), PARTITION_MEMBERS, TICK_MS, ELECTION_TICKS],
                    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=stderr,
                    env=node.env, cwd=node.workdir, text=True, encoding="utf-8", bufsize=1)
            finally:
                stderr.close()
            threading.Thread(target=self._read, args=(node,), daemon=True).start()

    def _read(self, node: Node) -> None:
        assert node.process is not None and node.process.stdout is not None
        for line in node.process.stdout:
            self.lines.put((node.node_id, line.rstrip("\n")))
        self.lines.put((node.node_id, None))

    def kill(self, node: Node) -> None:
        assert node.process is not None
        self.note(f"SIGKILL {node.name}, pid {node.process.pid}")
        node.process.send_signal(signal.SIGKILL)
        node.alive = False
        self.wait_for(lambda: node.eof, EXIT_SECONDS, f"{node.name} to die")
        node.process.wait(timeout=EXIT_SECONDS)

    def stop(self) -> None:
        """Ends every process still running (after a failure): no orphans."""
        for node in self.nodes.values():
            if node.process is not None and node.process.poll() is None:
                node.process.kill()
                node.process.wait()

    # -- output --------------------------------------------------------------------------

    def note(self, text: str) -> None:
        print(f"[{time.monotonic() - T0:7.3f}s] {text}", flush=True)

    def pump(self, timeout: float) -> None:
        """Takes one output line (waiting at most `timeout`) and records what it says."""
        try:
            node_id, line = self.lines.get(timeout=max(timeout, 0.0))
        except queue.Empty:
            return
        node = self.nodes[node_id]
        if line is None:
            node.eof = True
            if node.alive:
                status = node.process.poll() if node.process else None
                raise Failure(f"{node.name} ended its output unexpectedly (exit status "
                              f"{'unknown yet' if status is None else status})")
            return
        words = line.split()
        if words and words[0] == "entry" and len(words) == 6:
            node.entries.append(Applied(int(words[1]), int(words[2]), words[3], words[4],
                                        words[5]))
        elif words and words[0] == "leader" and len(words) == 2:
            node.leader = int(words[1])
        elif words and words[0] in ("ok", "error", "ready"):
            node.replies.append(line)
        else:
            raise Failure(f"{node.name} printed an unexpected line: {line!r}")

    def wait_for(self, condition: Callable[[], bool], seconds: float, what: str) -> None:
        deadline = time.monotonic() + seconds
        while not condition():
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise Failure(f"no {what} within {seconds:g} s")
            self.pump(remaining)

    def command(self, node: Node, text: str, seconds: float = REPLY_SECONDS) -> str:
        assert node.process is not None and node.process.stdin is not None
        node.process.stdin.write(text + "\n")
        node.process.stdin.flush()
        self.wait_for(lambda: bool(node.replies), seconds, f"reply from {node.name} to {text!r}")
        return node.replies.pop(0)

    # -- leadership ----------------------------------------------------------------------

    def alive(self) -> list[Node]:
        return [n for n in self.nodes.values() if n.alive]

    def agreed_leader(self) -> int:
        """The leader every alive node names, when they all name the same alive node; else 0."""
        alive = self.alive()
        leaders = {n.leader for n in alive}
        if len(leaders) == 1:
            (leader,) = leaders
            if leader in {n.node_id for n in alive}:
                return leader
        return 0

    def await_leader(self, seconds: float = LEADER_SECONDS) -> Node:
        self.wait_for(lambda: self.agreed_leader() != 0, seconds,
                      "leader agreed by " + ", ".join(n.name for n in self.alive()))
        return self.nodes[self.agreed_leader()]

    def make_leader(self, target: Node, deadline: float) -> None:
        """Moves leadership of partition 1 to `target`, retrying until `deadline`."""
        while True:
            leader = self.await_leader(max(deadline - time.monotonic(), 0.1))
            if leader is target:
                return
            reply = self.command(leader, f"transfer {target.node_id}")
            self.note(f"transfer {leader.name} -> {target.name}: {reply}")
            try:
                self.wait_for(lambda: self.agreed_leader() == target.node_id,
                              min(TRANSFER_SECONDS, max(deadline - time.monotonic(), 0.1)),
                              f"leadership of {target.name}")
                return
            except Failure:
                if time.monotonic() >= deadline:
                    raise


@dataclass
class Attempt:
    writer: str
    write: tuple[str, str, str]
    index: Optional[int] = None    # set when acknowledged


def hexs(text: str) -> str:
    return text.encode("utf-8").hex()


WRITES_PER_ROUND = 5


def planned_write(i: int, key: str) -> tuple[str, str, str]:
    """Write `i` of a round as (kind, type, hex data): string and number types, text,
    binary and empty data. `key` (writer, round, write, attempt; ASCII) makes every
    attempt unique, in its data or, for the empty data, in its type."""
    if i == 0:
        return ("s", hexs("OrderPlaced"), hexs(f"order {key}"))
    if i == 1:
        return ("n", "7", hexs(f"seven {key}"))
    if i == 2:
        return ("s", hexs("Überweisung ✓ 注文"), (b"\x00\xff\x80" + key.encode() + b"\n").hex())
    if i == 3:
        return ("n", "2147483647", hexs(key))
    # The longest name, 255 bytes, and no data.
    return ("s", hexs(f"{key}:".ljust(255, "t")), "-")


def write_round(cluster: Cluster, writer: Node, round_: int, attempts: list[Attempt]) -> None:
    for i in range(WRITES_PER_ROUND):
        deadline = time.monotonic() + WRITE_SECONDS
        for attempt in range(1, 1000):
            kind, type_, data = planned_write(i, f"{writer.language}/{round_}/{i}.{attempt}")
            cluster.make_leader(writer, deadline)
            record = Attempt(writer.language, (kind, type_, data))
            attempts.append(record)
            reply = cluster.command(writer, f"write {kind} {type_} {data}")
            if reply.startswith("ok "):
                record.index = int(reply.split()[1])
                break
            cluster.note(f"write through {writer.name} failed ({reply}); retrying")
            if time.monotonic() >= deadline:
                raise Failure(f"no write through {writer.name} within {WRITE_SECONDS:g} s")
    cluster.note(f"{writer.name} wrote {WRITES_PER_ROUND} entries (round {round_})")


def check(cluster: Cluster, killed: Node, attempts: list[Attempt]) -> None:
    survivors = cluster.alive()
    reference = survivors[0].entries
    for node in survivors[1:]:
        if node.entries != reference:
            for i, (a, b) in enumerate(zip(reference, node.entries)):
                if a != b:
                    raise Failure(f"{survivors[0].name} and {node.name} differ at their "
                                  f"entry {i + 1}: {a} vs {b}")
            raise Failure(f"{survivors[0].name} applied {len(reference)} entries, "
                          f"{node.name} {len(node.entries)}")
    if killed.entries != reference[:len(killed.entries)]:
        raise Failure(f"what {killed.name} applied before it died is not a prefix of "
                      "what the survivors applied")
    indexes = [e.index for e in reference]
    if indexes != sorted(set(indexes)):
        raise Failure(f"indexes not strictly increasing: {indexes}")

    by_write = {a.write: a for a in attempts}
    seen: set[tuple[str, str, str]] = set()
    for entry in reference:
        if entry.write() not in by_write:
            raise Failure(f"applied an entry nobody wrote: {entry}")
        if entry.write() in seen:
            raise Failure(f"applied twice: {entry}")
        seen.add(entry.write())
    at = {e.index: e for e in reference}
    acknowledged = [a for a in attempts if a.index is not None]
    for a in acknowledged:
        entry = at.get(a.index)
        if entry is None or entry.write() != a.write:
            raise Failure(f"the write acknowledged at index {a.index} by the {a.writer} node "
                          f"({show(a.write)}) is not what was applied there ({entry})")
    writers = {a.writer for a in acknowledged}
    if writers != {n.language for n in cluster.nodes.values()}:
        raise Failure(f"acknowledged writes came only from {sorted(writers)}")
    kinds = {e.kind for e in reference}
    if kinds != {"s", "n"}:
        raise Failure(f"applied log types of kinds {kinds} only")
    cluster.note(f"every survivor applied the same {len(reference)} entries "
                 f"({len(acknowledged)} acknowledged of {len(attempts)} attempts, from "
                 f"{len(writers)} languages); {killed.name} applied "
                 f"{len(killed.entries)} before it died")


def run(nodes: list[Node]) -> None:
    cluster = Cluster(nodes)
    try:
        cluster.start()
        cluster.wait_for(lambda: all(n.replies for n in nodes), START_SECONDS,
                         "\"ready\" from every node")
        for node in nodes:
            reply = node.replies.pop(0)
            if not reply.startswith("ready "):
                raise Failure(f"{node.name} did not start: {reply}")
            node.port = int(reply.split()[1])
            cluster.note(f"{node.name} listens on 127.0.0.1:{node.port}")
        for node in nodes:
            for peer in nodes:
                if peer is not node:
                    reply = cluster.command(node, f"peer {peer.node_id} 127.0.0.1:{peer.port}")
                    if reply != "ok":
                        raise Failure(f"{node.name}: peer {peer.node_id}: {reply}")
        leader = cluster.await_leader()
        cluster.note(f"{leader.name} leads")

        attempts: list[Attempt] = []
        for node in nodes:
            write_round(cluster, node, 1, attempts)

        victim = cluster.await_leader()
        cluster.kill(victim)
        leader = cluster.await_leader()
        cluster.note(f"{leader.name} leads after the kill")
        # The new leader writes first, then the others in order.
        for node in [leader] + [n for n in cluster.alive() if n is not leader]:
            write_round(cluster, node, 2, attempts)

        last = max(a.index for a in attempts if a.index is not None)
        cluster.wait_for(
            lambda: all(n.entries and n.entries[-1].index >= last for n in cluster.alive()),
            APPLY_SECONDS, f"entry {last} applied by every survivor")
        for node in cluster.alive():
            reply = cluster.command(node, "quit", EXIT_SECONDS)
            if reply != "ok":
                raise Failure(f"{node.name}: quit: {reply}")
            node.alive = False  # its end of output is expected now
            assert node.process is not None
            status = node.process.wait(timeout=EXIT_SECONDS)
            if status != 0:
                raise Failure(f"{node.name} exited with status {status}")
        for node in nodes:
            node.alive = node is not victim
        check(cluster, victim, attempts)
    except BaseException:
        cluster.stop()
        for node in nodes:
            try:
                with open(node.stderr_path, encoding="utf-8", errors="replace") as f:
                    tail = f.read()[-3000:]
            except OSError:
                tail = ""
            if tail.strip():
                print(f"--- stderr of {node.name} (end) ---\n{tail}", file=sys.stderr)
        raise
    finally:
        cluster.stop()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--skip", action="append", default=[],
                        help="a language's toolchain is absent: skip the test, saying why")
    parser.add_argument("--c-node", help="the C node program")
    parser.add_argument("--python", default=sys.executable, help="the Python interpreter")
    parser.add_argument("--python-node", help="polyglot_node.py")
    parser.add_argument("--python-path", help="directory holding the synod package")
    parser.add_argument("--dotnet", default="dotnet", help="the dotnet host")
    parser.add_argument("--dotnet-node", help="PolyglotNode.dll")
    parser.add_argument("--java", default="java", help="the java launcher")
    parser.add_argument("--java-classpath", help="synod.jar and the node's classes")
    args = parser.parse_args()
    if args.skip:
        print("SKIP: " + "; ".join(args.skip))
        return SKIP
    for name in ("c_node", "python_node", "python_path", "dotnet_node", "java_classpath"):
        if not getattr(args, name):
            parser.error(f"--{name.replace('_', '-')} is required")

    workdir = tempfile.mkdtemp(prefix="synod-polyglot-")
    env = dict(os.environ)
    env.update(PYTHONDONTWRITEBYTECODE="1", DOTNET_CLI_TELEMETRY_OPTOUT="1",
               DOTNET_NOLOGO="1")
    nodes = [
        Node(1, "C", [args.c_node], env, workdir),
        Node(2, "Python", [args.python, args.python_node],
             {**env, "PYTHONPATH": args.python_path}, workdir),
        Node(3, ".NET", [args.dotnet, args.dotnet_node], env, workdir),
        Node(4, "Java", [args.java, "-cp", args.java_classpath, "PolyglotNode"], env, workdir),
    ]
    ok = False
    try:
        run(nodes)
        ok = True
    except Failure as e:
        print(f"FAILED: {e}", file=sys.stderr)
    finally:
        if ok:
            shutil.rmtree(workdir, ignore_errors=True)
        else:
            print(f"(node stderr files kept in {workdir})", file=sys.stderr)
    print(f"four-language cluster: {'OK' if ok else 'FAILED'} in "
          f"{time.monotonic() - T0:.1f} s", flush=True)
    return 0 if ok else 1


T0 = time.monotonic()

if __name__ == "__main__":
    sys.exit(main())
