"""The cluster under test: synod-kv processes on 127.0.0.1 and the proxies between them.

Every node dials every other node through a proxy of its own (one per directed link,
i -> j), so the harness can cut any link in either direction: a cut link closes its
connections and refuses new ones until it is healed. Clients reach the nodes' HTTP ports
directly; only the traffic between nodes crosses the proxies.
"""
import asyncio
import json
import os
import random
import shutil
import signal
import socket
import subprocess
import threading
import time
import urllib.request

LIBFAKETIME = "/usr/lib/x86_64-linux-gnu/faketime/libfaketimeMT.so.1"


# Node ports come from below the kernel's ephemeral range (32768 up), so that no other
# process on the machine (another test binding port 0) can take one while its node is down
# between a kill and a restart, and then answer the harness in its place. The synod-kv
# demo takes its ports from 28000 up.
RESERVED_PORTS = range(20000, 28000)


def free_port():
    for _ in range(1000):
        port = random.SystemRandom().choice(RESERVED_PORTS)
        with socket.socket() as s:
            try:
                s.bind(("127.0.0.1", port))
            except OSError:
                continue
            return port
    raise RuntimeError(f"no free port in {RESERVED_PORTS}")


class LinkProxy:
    """TCP proxies for directed links, served by one asyncio loop on a thread of its own."""

    def __init__(self):
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)
        self._thread.start()
        self._servers = {}
        self._cut = set()
        self._connections = {}  # link -> set of open writers

    def _call(self, coroutine):
        return asyncio.run_coroutine_threadsafe(coroutine, self._loop).result(timeout=30)

    def add(self, link, target_port):
        """Starts the proxy of `link` (a (src, dst) pair) to 127.0.0.1:target_port; returns
        the port it listens on."""

        async def serve(reader, writer):
            if link in self._cut:
                writer.close()
                return
            try:
                up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
            except OSError:
                writer.close()
                return
            open_ = self._connections.setdefault(link, set())
            open_.update((writer, up_writer))

            async def pump(src, dst):
                try:
                    while True:
                        data = await src.read(65536)
                        if not data:
                            break
                        dst.write(data)
                        await dst.drain()
                except (OSError, asyncio.CancelledError):
                    pass
                finally:
                    dst.close()

            await asyncio.gather(pump(reader, up_writer), pump(up_reader, writer))
            open_.discard(writer)
            open_.discard(up_writer)

        async def start():
            server = await asyncio.start_server(serve, "127.0.0.1", 0)
            self._servers[link] = server
            return server.sockets[0].getsockname()[1]

        return self._call(start())

    def cut(self, links):
        async def run():
            for link in links:
                self._cut.add(link)
                for w in list(self._connections.get(link, ())):
                    w.close()

        self._call(run())

    def heal(self, links=None):
        async def run():
            if links is None:
                self._cut.clear()
            else:
                self._cut.difference_update(links)

        self._call(run())

    def cut_links(self):
        return set(self._cut)

    def close(self):
        async def run():
            for server in self._servers.values():
                server.close()
            for open_ in self._connections.values():
                for w in open_:
                    w.close()

        self._call(run())
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(timeout=10)


class Node:
    """One synod-kv process: started, killed, paused and restarted by the harness."""

    def __init__(self, cluster, node_id):
        self.cluster = cluster
        self.id = node_id
        self.listen_port = free_port()
        self.http_port = free_port()
        self.data = os.path.join(cluster.workdir, f"data{node_id}")
        self.log_path = os.path.join(cluster.report_dir, "nodes", f"node{node_id}.log")
        self.clock_file = os.path.join(cluster.workdir, f"clock{node_id}")
        self.process = None
        self.paused = False
        self.file_size_limit = None  # bytes, for the disk fault

    @property
    def url(self):
        return f"http://127.0.0.1:{self.http_port}"

    def command(self):
        c = self.cluster
        peers = ",".join(
            f"{n.id}=127.0.0.1:{n.listen_port if n.id == self.id else c.proxy_port[(self.id, n.id)]}"
            for n in c.nodes)
        http_peers = ",".join(f"{n.id}=127.0.0.1:{n.http_port}" for n in c.nodes)
        args = [c.binary, "--id", str(self.id), "--data", self.data,
                "--listen", f"127.0.0.1:{self.listen_port}",
                "--http", f"127.0.0.1:{self.http_port}", "--peers", peers,
                "--http-peers", http_peers, "--partitions", str(c.config["partitions"]),
                "--store", c.config["store"], "--transport", c.config["transport"],
                "--snapshot-every", str(c.config["snapshot_every"]),
                "--snapshot-keep", str(c.config["snapshot_keep"])]
        return args + c.security_args

    def start(self):
        env = dict(os.environ)
        if self.cluster.config.get("planted_bug"):
            env["SYNOD_PLANTED_BUG"] = self.cluster.config["planted_bug"]
        if self.cluster.faketime:
            # The wall clock follows the offset in clock_file, read at every call; the
            # steady clock (timers, elections) is left alone.
            if not os.path.exists(self.clock_file):
                with open(self.clock_file, "w") as f:
                    f.write("+0\n")
            env.update(LD_PRELOAD=LIBFAKETIME, FAKETIME_TIMESTAMP_FILE=self.clock_file,
                       FAKETIME_NO_CACHE="1", FAKETIME_DONT_FAKE_MONOTONIC="1")
            # A sanitized build refuses to start with another library preloaded before its
            # runtime unless told that this is intended.
            env["ASAN_OPTIONS"] = ":".join(
                o for o in (env.get("ASAN_OPTIONS"), "verify_asan_link_order=0") if o)
        limit = self.file_size_limit
        command = self.command()
        if limit is not None:
            # SIGXFSZ ignored (which exec keeps), so that a write past the limit fails with
            # EFBIG, as on a full disk, instead of killing the process.
            command = ["sh", "-c", 'trap "" XFSZ; exec prlimit --fsize=%d -- "$@"' % limit,
                       "sh"] + command
        log = open(self.log_path, "ab")
        log.write(f"=== {time.strftime('%H:%M:%S')} start{' (file size limit %d)' % limit if limit else ''}\n".encode())
        log.flush()
        self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT, env=env,
                                        start_new_session=True)
        log.close()
        self.paused = False

    def alive(self):
        return self.process is not None and self.process.poll() is None

    def signal(self, sig):
        if self.alive():
            self.process.send_signal(sig)

    def kill(self):
        if self.process is None:
            return
        if self.alive():
            self.process.send_signal(signal.SIGKILL)
        self.process.wait()
        self.paused = False

    def pause(self):
        self.signal(signal.SIGSTOP)
        self.paused = True

    def resume(self):
        self.signal(signal.SIGCONT)
        self.paused = False

    def set_clock_offset(self, seconds):
        with open(self.clock_file + ".tmp", "w") as f:
            f.write(f"{seconds:+d}\n")
        os.replace(self.clock_file + ".tmp", self.clock_file)

    def stop(self):
        """SIGTERM, then SIGKILL if it does not exit in time."""
        if not self.alive():
            return
        self.resume()
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            self.kill()

    def status(self, timeout=2):
        """This node's /status; None when it does not answer, or when another process answers
        on its port."""
        try:
            with urllib.request.urlopen(self.url + "/status", timeout=timeout) as r:
                status = json.loads(r.read())
        except (OSError, ValueError):
            return None
        return status if status.get("node") == self.id else None


class Cluster:
    def __init__(self, config, binary, workdir, report_dir):
        self.config = config
        self.binary = binary
        self.workdir = workdir
        self.report_dir = report_dir
        os.makedirs(os.path.join(report_dir, "nodes"), exist_ok=True)
        self.faketime = "clock" in config["mix"]
        self.security_args = self._security()
        self.proxy = LinkProxy()
        self.nodes = [Node(self, i) for i in range(1, config["nodes"] + 1)]
        self.proxy_port = {}
        for a in self.nodes:
            for b in self.nodes:
                if a is not b:
                    self.proxy_port[(a.id, b.id)] = self.proxy.add((a.id, b.id), b.listen_port)

    def _security(self):
        mode = self.config["security"]
        if mode == "plain":
            return []
        if mode == "secret":
            path = os.path.join(self.workdir, "secret")
            with open(path, "w") as f:
                f.write("synod-fault-harness-shared-secret")
            args = ["--secret-file", path]
            if "clock" in self.config["mix"]:
                # Offsets beyond this make the skewed node's batches (and its view of
                # others') be refused: the cluster must stay safe and recover when healed.
                args += ["--max-clock-skew-ms", "5000"]
            return args
        d = os.path.join(self.workdir, "tls")
        os.makedirs(d, exist_ok=True)
        with open(os.path.join(d, "node.cnf"), "w") as f:
            f.write("basicConstraints=critical,CA:FALSE\n"
                    "keyUsage=critical,digitalSignature,keyEncipherment\n"
                    "extendedKeyUsage=serverAuth,clientAuth\n"
                    "subjectAltName=IP:127.0.0.1,DNS:localhost\n")
        key = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes".split()
        for step in (["req", "-x509", *key, "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                      "-subj", "/CN=synod-fault-ca"],
                     ["req", "-new", *key, "-keyout", "node.key", "-out", "node.csr",
                      "-subj", "/CN=synod-node"],
                     ["x509", "-req", "-in", "node.csr", "-CA", "ca.pem", "-CAkey", "ca.key",
                      "-set_serial", "2", "-days", "2", "-extfile", "node.cnf", "-out", "node.pem"]):
            subprocess.run(["openssl", *step], cwd=d, check=True, capture_output=True)
        args = ["--tls-ca", f"{d}/ca.pem", "--tls-cert", f"{d}/node.pem", "--tls-key", f"{d}/node.key"]
        return args + (["--mtls"] if mode == "mtls" else [])

    def node(self, node_id):
        return self.nodes[node_id - 1]

    def start(self):
        for n in self.nodes:
            n.start()

    def leaders(self):
        """partition -> the node id that claims to lead it in the highest term, among the
        nodes that answer."""
        best = {}
        for n in self.nodes:
            if not n.alive() or n.paused:
                continue
            status = n.status(timeout=1)
            for p in (status or {}).get("partitions", []):
                if p.get("role") == "leader":
                    if p["partition"] not in best or p["term"] > best[p["partition"]][0]:
                        best[p["partition"]] = (p["term"], n.id)
        return {p: node for p, (_, node) in best.items()}

    def wait_ready(self, patience):
        """Until every partition has a leader; False after `patience` seconds."""
        deadline = time.monotonic() + patience
        while time.monotonic() < deadline:
            if len(self.leaders()) == self.config["partitions"]:
                return True
            time.sleep(0.2)
        return False

    def heal_all(self):
        """Ends every fault: links healed, clocks reset, processes resumed, dead and
        disk-limited nodes restarted."""
        self.proxy.heal()
        for n in self.nodes:
            if self.faketime:
                n.set_clock_offset(0)
            if n.file_size_limit is not None:
                n.file_size_limit = None
                n.kill()
            if n.paused:
                n.resume()
            if not n.alive():
                n.start()

    def close(self, keep_data):
        for n in self.nodes:
            n.stop()
        self.proxy.close()
        if not keep_data:
            shutil.rmtree(self.workdir, ignore_errors=True)
