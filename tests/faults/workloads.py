"""Clients and the history they record.

Each client is a thread bound to one node (client c talks to node c mod N, as Jepsen's
clients do), issuing one operation at a time. Every operation is recorded once it ends,
with its invocation and completion times (nanoseconds since the run began) and its
outcome:
  ok    the server answered and the answer is known (a read's value, a CAS refused);
  fail  it certainly did not take effect (the connection was refused before anything
        was sent; any failed read);
  info  indeterminate: a timeout, a lost connection or an error answer after the request
        was sent; the write may have taken effect or not.

Workloads:
  register  read / write / compare-and-set on a few keys; a key is retired after
            `ops_per_key` operations and a fresh one takes its place, which keeps every
            key's history small enough for the linearizability search.
  append    appends of unique values to a few lists, and reads of whole lists.
"""
import http.client
import json
import random
import threading
import time

CLIENT_TIMEOUT_S = 5.0


class History:
    def __init__(self, path, t0):
        self._file = open(path, "w")
        self._lock = threading.Lock()
        self.t0 = t0
        self.ops = []
        self.nemesis = []

    def now(self):
        return time.monotonic_ns() - self.t0

    def record(self, entry):
        with self._lock:
            (self.nemesis if "nemesis" in entry else self.ops).append(entry)
            self._file.write(json.dumps(entry, sort_keys=True) + "\n")
            self._file.flush()

    def close(self):
        self._file.close()


class Client:
    """HTTP to one node, over a kept-alive connection that is redone after any error."""

    def __init__(self, port):
        self.port = port
        self.conn = None
        # key -> the value this client last knew there (what its CAS operations expect).
        self.seen = {}

    def request(self, method, path, body=None):
        """(status, body bytes, headers) or raises: ConnectionRefusedError when nothing was
        sent, another OSError (or http.client error) when the outcome is unknown."""
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=CLIENT_TIMEOUT_S)
            try:
                self.conn.connect()
            except OSError:
                self.conn = None
                raise ConnectionRefusedError
        try:
            self.conn.request(method, path, body=body)
            r = self.conn.getresponse()
            return r.status, r.read(), r.headers
        except (OSError, http.client.HTTPException):
            self.conn.close()
            self.conn = None
            raise

    def close(self):
        if self.conn is not None:
            self.conn.close()


def call(client, method, path, body=None):
    """('sent', status, body, headers), ('refused',) or ('unknown', reason)."""
    try:
        status, data, headers = client.request(method, path, body)
        return ("sent", status, data, headers)
    except ConnectionRefusedError:
        return ("refused",)
    except (OSError, http.client.HTTPException) as e:
        return ("unknown", type(e).__name__)


class Workload:
    def __init__(self, cluster, history, seed, config):
        self.cluster = cluster
        self.history = history
        self.config = config
        self.rng = random.Random(seed)
        self.stop = threading.Event()
        self.threads = []
        self.keys_lock = threading.Lock()
        self.key_uses = {}
        self.next_key = 0
        self.active = []
        for _ in range(config["keys"]):
            self._new_key()

    def _new_key(self):
        key = f"{self.prefix}{self.next_key}"
        self.next_key += 1
        self.active.append(key)
        self.key_uses[key] = 0

    def pick_key(self, rng):
        with self.keys_lock:
            key = rng.choice(self.active)
            self.key_uses[key] += 1
            limit = self.config.get("ops_per_key")
            if limit and self.key_uses[key] >= limit:
                self.active.remove(key)
                self._new_key()
            return key

    def start(self):
        nodes = self.cluster.nodes
        for c in range(self.config["clients"]):
            node = nodes[c % len(nodes)]
            rng = random.Random(self.rng.getrandbits(64))
            t = threading.Thread(target=self._run, args=(c, node, rng), daemon=True)
            t.start()
            self.threads.append(t)

    def _run(self, client_id, node, rng):
        client = Client(node.http_port)
        # Each client keeps to its share of the target rate.
        interval = self.config["clients"] / self.config["rate"]
        n = 0
        next_at = time.monotonic()
        while not self.stop.is_set():
            n += 1
            self.operation(client, client_id, node.id, n, rng)
            next_at = max(next_at + interval, time.monotonic() - interval)
            delay = next_at - time.monotonic()
            if delay > 0:
                self.stop.wait(delay)
        client.close()

    def finish(self):
        self.stop.set()
        for t in self.threads:
            t.join(timeout=CLIENT_TIMEOUT_S * 3)

    def record(self, client_id, node_id, f, key, invoked, outcome, **fields):
        entry = {"client": client_id, "node": node_id, "f": f, "key": key, "invoked": invoked,
                 "completed": self.history.now(), "outcome": outcome}
        entry.update(fields)
        self.history.record(entry)


class RegisterWorkload(Workload):
    prefix = "r"

    def operation(self, client, client_id, node_id, n, rng):
        key = self.pick_key(rng)
        roll = rng.random()
        invoked = self.history.now()
        if roll < 0.4:
            r = call(client, "GET", f"/kv/{key}")
            if r[0] == "sent" and r[1] in (200, 404):
                value = r[2].decode() if r[1] == 200 else None
                return self.record(client_id, node_id, "read", key, invoked, "ok", value=value)
            return self.record(client_id, node_id, "read", key, invoked, "fail",
                               error=r[1] if r[0] == "sent" else r[0])
        value = f"{client_id}-{n}"
        if roll < 0.75:
            r = call(client, "PUT", f"/kv/{key}", value.encode())
            f, extra = "write", {}
        else:
            expected = f"{rng.randrange(self.config['clients'])}-{max(1, n - rng.randrange(1, 6))}"
            # A guess rarely matches: most CAS expect the value this client last saw there.
            seen = client.seen.get(key)
            if seen is not None and rng.random() < 0.8:
                expected = seen
            r = call(client, "PUT", f"/kv/{key}?expect={expected}", value.encode())
            f, extra = "cas", {"expected": expected}
        if r[0] == "refused":
            return self.record(client_id, node_id, f, key, invoked, "fail", value=value,
                               error="refused", **extra)
        if r[0] == "sent" and r[1] == 200:
            client.seen[key] = value
            return self.record(client_id, node_id, f, key, invoked, "ok", value=value,
                               swapped=True, **extra)
        if r[0] == "sent" and r[1] == 409 and f == "cas":
            if r[3].get("X-Synod-Current") == "present":
                client.seen[key] = r[2].decode()
            return self.record(client_id, node_id, f, key, invoked, "ok", value=value,
                               swapped=False, **extra)
        return self.record(client_id, node_id, f, key, invoked, "info", value=value,
                           error=r[1], **extra)


class AppendWorkload(Workload):
    prefix = "l"

    def operation(self, client, client_id, node_id, n, rng):
        key = self.pick_key(rng)
        invoked = self.history.now()
        if rng.random() < 0.3:
            r = call(client, "GET", f"/list/{key}")
            if r[0] == "sent" and r[1] == 200:
                values = r[2].decode().split("\n")[:-1]
                return self.record(client_id, node_id, "read", key, invoked, "ok", value=values)
            return self.record(client_id, node_id, "read", key, invoked, "fail",
                               error=r[1] if r[0] == "sent" else r[0])
        value = f"{client_id}-{n}"
        r = call(client, "POST", f"/list/{key}", value.encode())
        if r[0] == "refused":
            return self.record(client_id, node_id, "append", key, invoked, "fail", value=value,
                               error="refused")
        if r[0] == "sent" and r[1] == 200:
            answer = json.loads(r[2])
            return self.record(client_id, node_id, "append", key, invoked, "ok", value=value,
                               position=answer["position"], index=answer["index"])
        return self.record(client_id, node_id, "append", key, invoked, "info", value=value,
                           error=r[1])


WORKLOADS = {"register": RegisterWorkload, "append": AppendWorkload}
