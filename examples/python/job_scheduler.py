#!/usr/bin/env python3
"""A leader-owned job scheduler on Synod: three nodes in one process.

Jobs are submitted to a partition with replicate(); every node applies the same log, so
every node knows every job and which are done. Only the current leader of a partition
runs its jobs, and records each result with another replicate(): a job is done once its
result has committed. When the leader of partition 1 is cut off (Network.isolate), a
follower is elected and finishes the remaining jobs; a job the old leader ran but could
not record is simply run again (at-least-once execution, exactly-once results).

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


class Member:
    """A node, its job table and its worker."""

    def __init__(self, node_id: int, net: synod.Network, changed: asyncio.Event) -> None:
        self.jobs = Jobs()
        self.changed = changed
        self.ran: list[str] = []
        cfg = synod.Config(node_id=node_id, members=[1, 2, 3], network=net,
                           user_partitions=len(PARTITIONS), tick_interval_ms=10,
                           request_timeout_ms=1000, seed=node_id)
        # Made inside the event loop: the loop dispatches the node's events.
        self.node = synod.Node(cfg, on_entry=self._on_entry,
                               on_leader_change=self._on_leader_change)

    @property
    def id(self) -> int:
        return self.node.id

    def _on_entry(self, entry: synod.Entry) -> None:
        self.jobs.apply(entry)
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


async def main() -> int:
    changed = asyncio.Event()
    net = synod.Network()
    members = {i: Member(i, net, changed) for i in (1, 2, 3)}
    workers = [asyncio.create_task(m.work()) for m in members.values()]
    try:
        leaders = {}
        for p in PARTITIONS:
            leaders[p] = members[await members[1].node.wait_for_leader_async(p)]
        print("leaders: " + ", ".join(f"partition {p} -> node {m.id}" for p, m in leaders.items()))

        print(f"submitting {JOBS_PER_PARTITION} jobs to each partition")
        for p in PARTITIONS:
            for k in range(JOBS_PER_PARTITION):
                record = json.dumps({"job": f"p{p}-job{k}", "n": 1000 * (k + 1)}).encode()
                await leaders[p].node.replicate(p, SUBMIT, record)

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

        print("all jobs done; results as the surviving nodes agree on them:")
        table = survivors[0].jobs
        assert all(m.jobs.done == table.done for m in survivors)
        for job in sorted(table.done, key=lambda j: (table.partition_of[j], len(j), j)):
            by, result = table.done[job]
            print(f"  {job:<10} ran by node {by}: {result}")
        runs = sum(len(m.ran) for m in members.values())
        print(f"{runs} runs for {total} jobs ({runs - total} repeated after the failover), "
              f"{sum(m.jobs.duplicate_results for m in survivors)} duplicate results "
              f"ignored")
        net.heal()
        return 0
    finally:
        for w in workers:
            w.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
        for m in members.values():
            m.node.close()
        net.close()


if __name__ == "__main__":
    sys.exit(asyncio.run(main()))
