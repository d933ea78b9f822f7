"""Faults, and the seeded schedule that injects them.

The schedule alternates quiet spells and faults. Each fault is drawn by the seed from the
run's mix; with a mix of two or more, a third of the faults come in pairs (a partition
during a kill, say). Every fault is recorded in the history as an interval with a
description, and ends (healed, resumed, restarted) before the next quiet spell.

  kill       SIGKILL of a random node or of a partition's leader; restarted at the end
  pause      SIGSTOP of a random node or of a leader; SIGCONT at the end
  partition  majority/minority halves, the leader isolated, a bridge (two halves that
             only one node hears both of), a one-way cut from one node, or flapping
             (a random cut toggled every few hundred milliseconds)
  power      every node SIGKILLed at once, then all restarted
  clock      a node's wall clock jumps by up to two minutes, forwards or back
  disk       a node restarted with a file size limit just above its largest file: its
             writes fail (EFBIG) as a full disk's would; restarted without it at the end
  wipe       a node killed and its data directory deleted; restarted empty once that is
             harmless (see _wipe), it must catch up (by snapshots when the run's logs are
             compacted) before the next fault

power and wipe come alone, never paired with another fault.
"""
import os
import random
import shutil
import threading
import time

ALL_FAULTS = ("kill", "pause", "partition", "power", "clock", "disk", "wipe")
SOLO_FAULTS = ("power", "wipe")
# How long a wiped node may wait to be restarted, and then to catch up.
REJOIN_S = 90


def links_between(groups):
    """Every directed link between nodes of different groups."""
    return {(a, b) for g in groups for h in groups if g is not h for a in g for b in h}


class Nemesis:
    def __init__(self, cluster, history, seed, mix, quiet=(2.0, 5.0), hold=(3.0, 8.0)):
        self.cluster = cluster
        self.history = history
        self.rng = random.Random(seed)
        self.mix = list(mix)
        self.quiet = quiet
        self.hold = hold
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self._run, daemon=True)
        self.errors = []

    def start(self):
        if self.mix:
            self.thread.start()

    def finish(self):
        self.stop.set()
        if self.thread.is_alive():
            # An ending wipe may wait for its node to be restarted and to catch up.
            self.thread.join(timeout=120 + 2 * REJOIN_S)

    # -- the schedule ---------------------------------------------------------------------

    def _run(self):
        try:
            while not self.stop.wait(self.rng.uniform(*self.quiet)):
                faults = [self.rng.choice(self.mix)]
                if len(self.mix) > 1 and self.rng.random() < 1 / 3:
                    other = self.rng.choice([f for f in self.mix if f != faults[0]])
                    if not {faults[0], other} & set(SOLO_FAULTS):
                        faults.append(other)
                self._inject(faults, self.rng.uniform(*self.hold))
        except Exception as e:  # a harness bug must show, not silently end the faults
            self.errors.append(repr(e))
            raise

    def _inject(self, faults, hold):
        begun = self.history.now()
        undo = []
        what = []
        for fault in faults:
            description, end = getattr(self, "_" + fault)(hold)
            what.append(description)
            undo.append(end)
        self.history.record({"nemesis": "+".join(faults), "what": "; ".join(what),
                             "start": begun, "stage": "start"})
        self.stop.wait(hold)
        for end in reversed(undo):
            # An end may say how it went (a wiped node's catching up).
            note = end()
            if note:
                what.append(note)
        self.history.record({"nemesis": "+".join(faults), "what": "; ".join(what),
                             "start": begun, "end": self.history.now(), "stage": "end"})

    # -- targets --------------------------------------------------------------------------

    def _ids(self):
        return [n.id for n in self.cluster.nodes]

    def _target(self):
        """A partition's leader half of the time (when one is known), else any node."""
        if self.rng.random() < 0.5:
            leaders = self.cluster.leaders()
            if leaders:
                partition = self.rng.choice(sorted(leaders))
                return leaders[partition], f"leader of partition {partition}"
        node = self.rng.choice(self._ids())
        return node, "a node"

    # -- the faults -----------------------------------------------------------------------

    def _kill(self, hold):
        node_id, role = self._target()
        node = self.cluster.node(node_id)
        node.kill()

        def end():
            if not node.alive():
                node.start()

        return f"kill -9 node {node_id} ({role})", end

    def _pause(self, hold):
        node_id, role = self._target()
        node = self.cluster.node(node_id)
        node.pause()
        return f"SIGSTOP node {node_id} ({role})", node.resume

    def _partition(self, hold):
        ids = self._ids()
        self.rng.shuffle(ids)
        kind = self.rng.choice(["halves", "isolate-leader", "bridge", "one-way", "flapping"])
        proxy = self.cluster.proxy
        if kind == "halves":
            cut = self.rng.randrange(1, len(ids) // 2 + 1)
            groups = [ids[:cut], ids[cut:]]
            links = links_between(groups)
            description = f"partition {sorted(groups[0])} | {sorted(groups[1])}"
        elif kind == "isolate-leader":
            leader, role = self._target()
            groups = [[leader], [i for i in ids if i != leader]]
            links = links_between(groups)
            description = f"isolate node {leader} ({role})"
        elif kind == "bridge":
            # Two halves that only the middle node hears both of.
            middle = ids[0]
            rest = ids[1:]
            half = len(rest) // 2
            links = links_between([rest[:half], rest[half:]])
            description = f"bridge {sorted(rest[:half])} <- {middle} -> {sorted(rest[half:])}"
        elif kind == "one-way":
            node = ids[0]
            links = {(node, other) for other in ids[1:]}
            description = f"node {node} cannot send to the others"
        else:
            return self._flapping(ids, hold)
        proxy.cut(links)
        return description, lambda: proxy.heal(links)

    def _flapping(self, ids, hold):
        proxy = self.cluster.proxy
        rng = random.Random(self.rng.getrandbits(64))
        done = threading.Event()
        cut_now = set()

        def flap():
            while not done.wait(rng.uniform(0.2, 0.8)):
                if cut_now:
                    proxy.heal(cut_now)
                    cut_now.clear()
                else:
                    shuffled = ids[:]
                    rng.shuffle(shuffled)
                    k = rng.randrange(1, len(ids) // 2 + 1)
                    cut_now.update(links_between([shuffled[:k], shuffled[k:]]))
                    proxy.cut(cut_now)

        thread = threading.Thread(target=flap, daemon=True)
        thread.start()

        def end():
            done.set()
            thread.join()
            proxy.heal(cut_now)

        return "flapping partitions", end

    def _power(self, hold):
        for n in self.cluster.nodes:
            n.kill()

        def end():
            for n in self.cluster.nodes:
                n.start()

        return "power loss: every node killed", end

    def _clock(self, hold):
        if not self.cluster.faketime:
            return "clock (no faketime in this run)", lambda: None
        node_id = self.rng.choice(self._ids())
        offset = self.rng.choice([-1, 1]) * self.rng.randrange(2, 121)
        node = self.cluster.node(node_id)
        node.set_clock_offset(offset)
        return f"node {node_id} clock {offset:+d} s", lambda: node.set_clock_offset(0)

    def _disk(self, hold):
        node_id = self.rng.choice(self._ids())
        node = self.cluster.node(node_id)
        largest = 0
        for root, _, files in os.walk(node.data):
            for f in files:
                try:
                    largest = max(largest, os.path.getsize(os.path.join(root, f)))
                except OSError:
                    pass
        node.kill()
        node.file_size_limit = largest + 8 * 1024
        node.start()

        def end():
            node.kill()
            node.file_size_limit = None
            node.start()

        return f"node {node_id} disk full above {node.file_size_limit} bytes a file", end

    def _wipe(self, hold):
        """Kills a node and deletes its data directory. A wiped node has forgotten its votes
        and the entries it acknowledged, which Raft assumes durable, so (as the simulator's
        wipes) it is restarted only once that is harmless: per partition, every other node
        follows one leader in a term no older than the wiped node's last (a vote it forgot
        was cast in a term that is over), and holds that leader's committed log (no
        committed entry depends on the wiped copy). Until it has caught up the nemesis
        injects nothing else, so no crash makes its missing entries matter."""
        node_id = self.rng.choice(self._ids())
        node = self.cluster.node(node_id)
        status = node.status() or {}
        # Its terms just before the kill; the others' current terms bound any it reached
        # by voting in the moment between (it is a solo fault: everyone else is up).
        terms = {p["partition"]: p.get("term", 0) for p in status.get("partitions", [])}
        node.kill()
        for other in self.cluster.nodes:
            for p in (other.status() or {}).get("partitions", []):
                terms[p["partition"]] = max(terms.get(p["partition"], 0), p.get("term", 0))
        shutil.rmtree(node.data, ignore_errors=True)

        def end():
            return self._rejoin(node, terms)

        return f"wipe node {node_id}'s data directory", end

    def _partition_views(self, nodes):
        """partition -> [the partition's status on each of `nodes`], or None unless every
        node answered with every partition."""
        views = {}
        for n in nodes:
            status = n.status()
            if status is None:
                return None
            for p in status.get("partitions", []):
                if "role" in p:
                    views.setdefault(p["partition"], []).append(p)
        complete = len(views) == self.cluster.config["partitions"] and all(
            len(v) == len(nodes) for v in views.values())
        return views if complete else None

    def _rejoin(self, node, terms):
        """Restarts a wiped node once that is harmless, then waits until it holds what was
        committed and applied before its restart. Returns a note for the history; a node
        that cannot rejoin in time is a nemesis error (the run fails)."""
        others = [n for n in self.cluster.nodes if n is not node]
        began = time.monotonic()
        # partition -> (leader, term, since when it was seen leading, its commit index
        # once it had led for a second, the highest applied index then)
        leading = {}
        while True:
            if time.monotonic() > began + REJOIN_S:
                self.errors.append(f"wipe: node {node.id} could not be restarted safely within "
                                   f"{REJOIN_S} s (no stable leaders holding the committed logs)")
                return "never restarted"
            time.sleep(0.2)
            views = self._partition_views(others)
            if views is None:
                continue
            for partition, view in views.items():
                leaders = {(v["leader"], v["term"]) for v in view}
                leader, term = next(iter(leaders))
                if len(leaders) != 1 or not leader or term < terms.get(partition, 0) or not any(
                        v["role"] == "leader" for v in view):
                    leading.pop(partition, None)
                    continue
                seen = leading.get(partition)
                if seen is None or seen[:2] != (leader, term):
                    leading[partition] = (leader, term, time.monotonic(), None, None)
                elif seen[3] is None and time.monotonic() - seen[2] >= 1.0:
                    # A leader commits its term's no-op within a round trip of its
                    # election, and that commits everything before it; one that has led
                    # for a second has done so, so its commit index then covers every
                    # committed entry.
                    commit = max(v["commit"] for v in view if v["role"] == "leader")
                    applied = max(v["applied"] for v in view)
                    leading[partition] = seen[:3] + (commit, applied)
            targets = {p: l[3:] for p, l in leading.items() if l[3] is not None}
            if len(targets) == self.cluster.config["partitions"] and all(
                    v["commit"] >= targets[p][0] for p, view in views.items() for v in view):
                break
        waited = time.monotonic() - began
        node.start()
        while True:
            views = self._partition_views([node])
            if views and all(v[0]["commit"] >= targets[p][0] and v[0]["applied"] >= targets[p][1]
                             for p, v in views.items()):
                break
            if time.monotonic() > began + waited + REJOIN_S:
                self.errors.append(f"wipe: node {node.id} did not catch up within {REJOIN_S} s of "
                                   f"its restart (commit and applied targets {targets})")
                return "restarted, did not catch up"
            time.sleep(0.2)
        snapshots = sum(len(files) for _, _, files in os.walk(os.path.join(node.data, "snapshots")))
        return (f"restarted empty after {waited:.1f} s, caught up in "
                f"{time.monotonic() - began - waited:.1f} s with {snapshots} snapshot files")
