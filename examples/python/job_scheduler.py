#!/usr/bin/env python3
"""A leader-owned job scheduler on Synod: three nodes in one process.

Jobs are submitted to a partition with replicate(); every node applies the same log, so
every node knows every job and which are done. Only the current leader of a partition
runs its jobs, and records each result with another replicate(): a job is done once its
result has committed. When the leader of partition 1 is cut off (Network.isolate), a
follower is elected and finishes the remaining jobs; a job the old leader ran but could
not record is simply run again (at-least-once execution, exactly-once results).

The job table lives in memory, so the nodes snapshot it (every few entries) and the log
behind each snapshot is compacted. After the failover the cut-off node comes back, a
follower loses everything and rejoins empty, and both catch up from the leaders'
snapshots while a second batch of jobs runs.

Run: python3 examples/python/job_scheduler.py   (exits 0 by itself within seconds)
"""

from __future__ import annotations

import asyncio
import json
import sys
from dataclasses import dataclass, field

import synod

SUBMIT, DONE = 1, 2  # entry types of this application
PARTITIONS = (1, 2)
JOBS_PER_PARTITION = 8
DEADLINE_S = 30.0


@dataclass
class Jobs:
    """One node's copy of the job table, built only from committed entries."""

    submitted: dict[str, int] = field(default_factory=dict)       # job -> n
    partition_of: dict[str, int] = field(default_factory=dict)
    done: dict[str, tuple[int, int]] = field(default_factory=dict)  # job -> (by, result)
    duplicate_results: int = 0

    def apply(self, entry: synod.Entry) -> None:
        record = json.loads(entry.data)
        job = record["job"]
        if entry.type == SUBMIT:
            self.submitted[job] = record["n"]
            self.partition_of[job] = entry.partition
        elif entry.type == DONE:
            # The first committed result wins; a re-run's result is ignored.
            if job in self.done:
                self.duplicate_results += 1
            else:
                self.done[job] = (record["by"], record["result"])

    def pending(self, partition: int) -> list[str]:
        return [j for j, p in self.partition_of.items() if p == partition and j not in self.done]

    def save(self, partition: int, out: synod.SnapshotWriter) -> None:
        """Writes the jobs of ``partition`` (a snapshot covers one partition's log)."""
        jobs = [j for j, p in self.partition_of.items() if p == partition]
        out.write(json.dumps({
            "submitted": {j: self.submitted[j] for j in jobs},
            "done": {j: self.done[j] for j in jobs if j in self.done},
        }).encode())

    def install(self, partition: int, data: bytes) -> None:
        """Replaces the jobs of ``partition`` by a snapshot's."""
        for job in [j for j, p in self.partition_of.items() if p == partition]:
            del self.submitted[job], self.partition_of[job]
            self.done.pop(job, None)
        snapshot = json.loads(data)
        self.submitted.update(snapshot["submitted"])
        self.partition_of.update({j: partition for j in snapshot["submitted"]})
        self.done.update({j: tuple(r) for j, r in snapshot["done"].items()})


class Member:
    """A node, its job table and its worker."""

    def __init__(self, node_id: int, net: synod.Network, changed: asyncio.Event) -> None:
        self.jobs = Jobs()
        self.changed = changed
        self.ran: list[str] = []
        self.saved = 0
        self.installed_from_leader = 0
        # The in-memory model: a snapshot every 4 entries, 2 kept behind it for followers.
        cfg = synod.Config(node_id=node_id, members=[1, 2, 3], network=net,
                           user_partitions=len(PARTITIONS), tick_interval_ms=10,
                           request_timeout_ms=1000, seed=node_id,
                           snapshot_every_entries=4, snapshot_keep_entries=2)
        # Made inside the event loop: the loop dispatches the node's events.
        self.node = synod.Node(cfg, on_entry=self._on_entry,
                               on_leader_change=self._on_leader_change,
                               on_snapshot_save=self._on_snapshot_save,
                               on_snapshot_install=self._on_snapshot_install)

    @property
    def id(self) -> int:
        return self.node.id

    def _on_entry(self, entry: synod.Entry) -> None:
        self.jobs.apply(entry)
        self.changed.set()

    def _on_snapshot_save(self, out: synod.SnapshotWriter) -> None:
        # In log order: the table is exactly as it was at out.index.
        self.jobs.save(out.partition, out)
        self.saved += 1

    def _on_snapshot_install(self, snapshot: synod.SnapshotReader) -> None:
        self.jobs.install(snapshot.partition, snapshot.read())
        if snapshot.from_leader:
            self.installed_from_leader += 1
            print(f"  node {self.id} installed a snapshot of partition {snapshot.partition} "
                  f"at index {snapshot.index} ({snapshot.size} bytes)")
        self.changed.set()

    def _on_leader_change(self, change: synod.LeaderChange) -> None:
        if change.leader == self.id and change.partition in PARTITIONS:
            print(f"  node {self.id} now leads partition {change.partition} "
                  f"(term {change.term})")
        self.changed.set()

    async def work(self) -> None:
        """Runs the pending jobs of the partitions this node leads, one at a time."""
        while True:
            job = next((j for p in PARTITIONS if self.node.is_leader(p)
                        for j in self.jobs.pending(p)), None)
            if job is None:
                self.changed.clear()
                await self.changed.wait()
                continue
            partition = self.jobs.partition_of[job]
            n = self.jobs.submitted[job]
            await asyncio.sleep(0.05)  # the job's "work"
            result = sum(i * i for i in range(n))
            self.ran.append(job)
            record = json.dumps({"job": job, "by": self.id, "result": result}).encode()
            try:
                await self.node.replicate(partition, DONE, record)
                print(f"  node {self.id} ran {job} on partition {partition}: {result}")
            except synod.SynodError as e:
                # Not recorded: whoever leads next runs it again.
                print(f"  node {self.id} ran {job} but could not record it: "
                      f"{type(e).__name__}")
                self.changed.clear()
                await self.changed.wait()


async def wait_until(predicate, changed: asyncio.Event, what: str) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + DEADLINE_S
    while not predicate():
        changed.clear()
        remaining = deadline - loop.time()
        if remaining <= 0:
            raise SystemExit(f"gave up waiting for {what}")
        try:
            await asyncio.wait_for(changed.wait(), remaining)
        except asyncio.TimeoutError:
            pass


async def submit(members: dict[int, Member], batch: int) -> None:
    """Submits JOBS_PER_PARTITION jobs of ``batch`` to each partition, through its leader."""
    for p in PARTITIONS:
        for k in range(JOBS_PER_PARTITION):
            record = json.dumps({"job": f"p{p}-b{batch}-job{k}", "n": 1000 * (k + 1)}).encode()
            while True:
                leader = members[await members[1].node.wait_for_leader_async(p)]
                try:
                    await leader.node.replicate(p, SUBMIT, record)
                    break
                except (synod.NotLeaderError, synod.NoLeaderError, synod.TimeoutError):
                    await asyncio.sleep(0.05)  # leadership is moving: ask again


async def main() -> int:
    changed = asyncio.Event()
    net = synod.Network()
    members = {i: Member(i, net, changed) for i in (1, 2, 3)}
    workers = {i: asyncio.create_task(m.work()) for i, m in members.items()}
    try:
        leaders = {}
        for p in PARTITIONS:
            leaders[p] = members[await members[1].node.wait_for_leader_async(p)]
        print("leaders: " + ", ".join(f"partition {p} -> node {m.id}" for p, m in leaders.items()))

        print(f"submitting {JOBS_PER_PARTITION} jobs to each partition")
        await submit(members, 1)

        total = len(PARTITIONS) * JOBS_PER_PARTITION
        observer = next(m for m in members.values() if m is not leaders[1])
        await wait_until(lambda: sum(observer.jobs.partition_of[j] == 1
                                     for j in observer.jobs.done) >= 3,
                         changed, "the first results")

        old = leaders[1]
        print(f"isolating node {old.id}, the leader of partition 1")
        net.isolate(old.id)
        survivors = [m for m in members.values() if m is not old]
        await wait_until(lambda: all(len(m.jobs.done) == total for m in survivors),
                         changed, "every job to finish on the surviving nodes")

        print("all jobs done on the surviving nodes; healing the network")
        net.heal()

        wiped = next(m for m in survivors if not m.node.is_leader(1)).id
        print(f"wiping node {wiped}: it loses its job table and its log, and rejoins empty")
        workers.pop(wiped).cancel()
        members[wiped].node.close()
        members[wiped] = Member(wiped, net, changed)
        workers[wiped] = asyncio.create_task(members[wiped].work())

        print(f"submitting {JOBS_PER_PARTITION} more jobs to each partition")
        await submit(members, 2)
        total *= 2
        await wait_until(lambda: all(len(m.jobs.done) == total for m in members.values()),
                         changed, "every job to finish on every node")
        table = members[wiped].jobs
        assert all(m.jobs.done == table.done for m in members.values())
        rejoined = members[wiped]
        assert rejoined.installed_from_leader >= 1, "the wiped node caught up without a snapshot"
        print(f"node {wiped} rejoined empty and caught up by snapshot "
              f"({rejoined.installed_from_leader} installed); "
              f"{sum(m.saved for m in members.values())} snapshots saved in all, "
              f"the log compacted behind each")

        print("all jobs done; results as every node agrees on them:")
        for job in sorted(table.done, key=lambda j: (table.partition_of[j], len(j), j)):
            by, result = table.done[job]
            print(f"  {job:<13} ran by node {by}: {result}")
        runs = sum(len(m.ran) for m in members.values())
        print(f"{runs} runs on the current nodes for {total} jobs, "
              f"{sum(m.jobs.duplicate_results for m in members.values())} duplicate results "
              f"ignored")
        return 0
    finally:
        for w in workers.values():
            w.cancel()
        await asyncio.gather(*workers.values(), return_exceptions=True)
        for m in members.values():
            m.node.close()
        net.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
