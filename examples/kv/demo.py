#!/usr/bin/env python3
"""The synod-kv demo: three server processes on 127.0.0.1, talking gRPC (or REST).

It starts the cluster, writes keys through every node (non-leaders forward to leaders),
reads them back linearizably, shows compare-and-set, kills the leader of one partition
with SIGKILL, waits for the survivors to elect a new one, writes again, checks that no
acknowledged write was lost, restarts the killed node from its data directory, then
deletes a follower's data directory and restarts it empty: with snapshots every few
entries the leaders have compacted their logs, so it catches up by snapshots while
clients write. Stops everything. Exits 0 when every check held; every wait is bounded.

    examples/kv/demo.py [--transport grpc|rest] [path/to/synod-kv]
                                    (default: gRPC and build/examples/kv/synod-kv)
"""
import argparse
import json
import os
import random
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import time
import urllib.error
import urllib.parse
import urllib.request

NODES = (1, 2, 3)
PARTITIONS = 4
PATIENCE_S = 30


# Below the kernel's ephemeral range (32768 up), so that no other process binding port 0
# takes a node's port while the demo has it down between a kill and a restart. The fault
# harness takes its ports from 20000 to 27999.
RESERVED_PORTS = range(28000, 32768)


def free_ports(count):
    ports = []
    chooser = random.SystemRandom()
    while len(ports) < count:
        port = chooser.choice(RESERVED_PORTS)
        if port in ports:
            continue
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
        ports.append(port)
    return ports


def request(method, url, body=None, timeout=10):
    """Returns (status, body bytes, headers); connection failures give status 0."""
    req = urllib.request.Request(url, data=body, method=method)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read(), r.headers
    except urllib.error.HTTPError as e:
        return e.code, e.read(), e.headers
    except (urllib.error.URLError, ConnectionError, socket.timeout):
        return 0, b"", {}


def until(what, condition):
    """Polls `condition` until it returns a true value; fails the demo after PATIENCE_S."""
    deadline = time.monotonic() + PATIENCE_S
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.05)
    raise SystemExit(f"demo: timed out waiting for {what}")


class Cluster:
    def __init__(self, binary, root, transport):
        self.binary = binary
        self.root = root
        self.transport = transport
        ports = free_ports(2 * len(NODES))
        self.listen = {n: f"127.0.0.1:{ports[i]}" for i, n in enumerate(NODES)}
        self.http = {n: f"127.0.0.1:{ports[len(NODES) + i]}" for i, n in enumerate(NODES)}
        self.processes = {}

    def start(self, node):
        peers = ",".join(f"{n}={a}" for n, a in self.listen.items())
        http_peers = ",".join(f"{n}={a}" for n, a in self.http.items())
        log = open(os.path.join(self.root, f"node{node}.log"), "ab")
        self.processes[node] = subprocess.Popen(
            [self.binary, "--id", str(node), "--data", os.path.join(self.root, f"node{node}"),
             "--listen", self.listen[node], "--http", self.http[node], "--peers", peers,
             "--http-peers", http_peers, "--partitions", str(PARTITIONS),
             "--transport", self.transport,
             # Small, so that the logs are compacted and a wiped node needs snapshots.
             "--snapshot-every", "5", "--snapshot-keep", "2"],
            stdout=log, stderr=subprocess.STDOUT)

    def url(self, node, path):
        return f"http://{self.http[node]}{path}"

    def status(self, node):
        code, body, _ = request("GET", self.url(node, "/status"), timeout=2)
        return json.loads(body) if code == 200 else None

    def leaders(self, nodes):
        """partition -> leader when every node in `nodes` agrees on a leader for each."""
        views = [self.status(n) for n in nodes]
        if any(v is None for v in views):
            return None
        agreed = {}
        for p in range(1, PARTITIONS + 1):
            seen = {next(x["leader"] for x in v["partitions"] if x["partition"] == p) for v in views}
            if len(seen) != 1 or 0 in seen or next(iter(seen)) not in nodes:
                return None
            agreed[p] = seen.pop()
        return agreed

    def stop_all(self):
        for p in self.processes.values():
            if p.poll() is None:
                p.send_signal(signal.SIGTERM)
        for p in self.processes.values():
            try:
                p.wait(timeout=10)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()


SAMPLE_LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')


def scrape(cluster, node):
    """GET /metrics of `node`: {series (name with labels): value}; checks the format."""
    code, body, headers = request("GET", cluster.url(node, "/metrics"))
    if code != 200:
        raise SystemExit(f"demo: GET /metrics of node {node} answered {code}")
    content_type = headers.get("Content-Type", "")
    if not content_type.startswith("text/plain; version=0.0.4"):
        raise SystemExit(f"demo: /metrics of node {node} has content type {content_type!r}")
    series = {}
    for line in body.decode().splitlines():
        if not line or line.startswith("#"):
            continue
        match = SAMPLE_LINE.match(line)
        if not match:
            raise SystemExit(f"demo: /metrics of node {node} has a malformed line {line!r}")
        series[match.group(1) + (match.group(2) or "")] = float(match.group(3))
    return series


def commits(cluster, nodes):
    """Proposals committed on the leaders among `nodes`, from their /metrics."""
    return sum(scrape(cluster, n)["synod_proposal_commit_latency_seconds_count"] for n in nodes)


def put(cluster, node, key, value, **params):
    query = ("?" + urllib.parse.urlencode(params)) if params else ""
    return request("PUT", cluster.url(node, f"/kv/{urllib.parse.quote(key)}{query}"), value.encode())


def get(cluster, node, key):
    return request("GET", cluster.url(node, f"/kv/{urllib.parse.quote(key)}"))


def write_until_acknowledged(cluster, nodes, key, value):
    """Writes through the given nodes in turn until one acknowledges (status 200)."""
    attempt = [0]

    def once():
        node = nodes[attempt[0] % len(nodes)]
        attempt[0] += 1
        code, _, _ = put(cluster, node, key, value)
        return code == 200
    until(f"an acknowledged write of {key}", once)


def partition_of(key):
    h = 14695981039346656037
    for b in key.encode():
        h ^= b
        h = (h * 1099511628211) % (1 << 64)
    return h % PARTITIONS + 1


def main():
    parser = argparse.ArgumentParser(description="The synod-kv demo: three processes on loopback.")
    parser.add_argument("binary", nargs="?", default=os.path.join("build", "examples", "kv", "synod-kv"),
                        help="the synod-kv executable")
    parser.add_argument("--transport", choices=("grpc", "rest"), default="grpc",
                        help="how the nodes talk to each other (default grpc)")
    args = parser.parse_args()
    binary = args.binary
    if not os.access(binary, os.X_OK):
        raise SystemExit(f"demo: {binary} is not built (scripts/build.sh build)")
    root = tempfile.mkdtemp(prefix="synod-kv-demo-")
    cluster = Cluster(binary, root, args.transport)
    try:
        for n in NODES:
            cluster.start(n)
        print(f"started 3 synod-kv processes over {args.transport}; "
              f"HTTP on {', '.join(cluster.http.values())}")
        leaders = until("a leader for every partition", lambda: cluster.leaders(list(NODES)))
        print(f"leaders by partition: {leaders}")

        acknowledged = {}
        for i in range(24):
            key, value = f"key-{i}", f"value-{i}"
            write_until_acknowledged(cluster, [NODES[i % 3]], key, value)
            acknowledged[key] = value
        print(f"wrote {len(acknowledged)} keys, each through a different node")
        for n in NODES:
            for key, value in acknowledged.items():
                code, body, _ = get(cluster, n, key)
                if code != 200 or body.decode() != value:
                    raise SystemExit(f"demo: node {n} read {key} as {code} {body!r}, expected {value}")
        print("every node reads every key back (linearizable reads via read_index)")

        # GET /metrics: Prometheus text whose counters saw the writes and the reads (request
        # latencies are added at the end of the engine's cycle, a moment after the answers).
        committed = until(f"/metrics of the leaders to count {len(acknowledged)} commits",
                          lambda: (lambda c: c if c >= len(acknowledged) else None)(
                              commits(cluster, NODES)))
        until(f"/metrics of the leaders to count {len(NODES) * len(acknowledged)} reads",
              lambda: sum(scrape(cluster, n)["synod_read_index_latency_seconds_count"]
                          for n in NODES) >= len(NODES) * len(acknowledged))
        for n in NODES:
            m = scrape(cluster, n)
            if m["synod_storage_entries_total"] < 1 or m["synod_storage_syncs_total"] < 1:
                raise SystemExit(f"demo: node {n}'s /metrics shows no storage writes")
            for p in range(1, PARTITIONS + 1):
                if m[f'synod_partition_leader{{partition="{p}"}}'] not in NODES:
                    raise SystemExit(f"demo: node {n}'s /metrics knows no leader of partition {p}")
        print(f"GET /metrics: Prometheus text; {committed:.0f} commits counted on the leaders")

        code, _, _ = put(cluster, 1, "key-0", "swapped", expect="value-0")
        if code != 200:
            raise SystemExit(f"demo: compare-and-set with the right value answered {code}")
        code, body, _ = put(cluster, 2, "key-0", "lost", expect="value-0")
        if code != 409 or body != b"swapped":
            raise SystemExit(f"demo: compare-and-set with a stale value answered {code} {body!r}")
        acknowledged["key-0"] = "swapped"
        print("compare-and-set: the right expectation swaps (200), a stale one is refused (409)")

        victim = leaders[partition_of("key-1")]
        committed_before_kill = commits(cluster, [n for n in NODES if n != victim])
        cluster.processes[victim].kill()
        cluster.processes[victim].wait()
        survivors = [n for n in NODES if n != victim]
        print(f"killed node {victim} (SIGKILL), the leader of partition {partition_of('key-1')}")
        started = time.monotonic()
        new_leaders = until("a new leader among the survivors", lambda: cluster.leaders(survivors))
        print(f"survivors elected new leaders in {time.monotonic() - started:.2f} s: {new_leaders}")

        for i in range(24, 36):
            key, value = f"key-{i}", f"value-{i}"
            write_until_acknowledged(cluster, survivors, key, value)
            acknowledged[key] = value
        for n in survivors:
            for key, value in acknowledged.items():
                code, body, _ = get(cluster, n, key)
                if code != 200 or body.decode() != value:
                    raise SystemExit(f"demo: after failover node {n} read {key} as {code} {body!r}")
        print(f"no acknowledged write was lost: all {len(acknowledged)} keys read back")
        until("/metrics of the survivors to count the 12 new writes",
              lambda: commits(cluster, survivors) >= committed_before_kill + 12)

        cluster.start(victim)
        until(f"node {victim} to rejoin", lambda: cluster.leaders(list(NODES)))
        code, body, _ = get(cluster, victim, "key-35")
        if code != 200 or body != b"value-35":
            raise SystemExit(f"demo: the restarted node read key-35 as {code} {body!r}")
        print(f"node {victim} restarted from its data directory and serves again")

        wiped = NODES[victim % len(NODES)]  # another node than the one killed before
        cluster.processes[wiped].send_signal(signal.SIGTERM)
        cluster.processes[wiped].wait(timeout=PATIENCE_S)
        shutil.rmtree(os.path.join(root, f"node{wiped}"))
        others = [n for n in NODES if n != wiped]
        for i in range(36, 60):
            key, value = f"key-{i}", f"value-{i}"
            write_until_acknowledged(cluster, others, key, value)
            acknowledged[key] = value
        cluster.start(wiped)
        print(f"deleted node {wiped}'s data directory and restarted it empty")
        for i in range(60, 72):
            key, value = f"key-{i}", f"value-{i}"
            write_until_acknowledged(cluster, others, key, value)
            acknowledged[key] = value

        def holds_everything():
            for key, value in acknowledged.items():
                code, body, _ = request("GET", cluster.url(wiped, f"/kv/{urllib.parse.quote(key)}?local=1"),
                                        timeout=2)
                if code != 200 or body.decode() != value:
                    return False
            return True
        until(f"the wiped node {wiped} to hold all {len(acknowledged)} keys", holds_everything)
        snapshots = os.path.join(root, f"node{wiped}", "snapshots")
        installed = sum(len(files) for _, _, files in os.walk(snapshots))
        if installed == 0:
            raise SystemExit(f"demo: node {wiped} caught up without a snapshot file in {snapshots}")
        print(f"node {wiped} caught up by snapshots ({installed} snapshot files) and holds every key")
    finally:
        cluster.stop_all()
        shutil.rmtree(root, ignore_errors=True)
    print("demo: ok")


if __name__ == "__main__":
    main()
