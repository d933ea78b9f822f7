#!/usr/bin/python3
"""Synod's fault harness: synod-kv processes on 127.0.0.1, concurrent clients, seeded
faults, and checked histories (Jepsen-style; see tests/faults/README.md).

One run:
  tests/faults/harness.py --seed 7 --duration 60 --mix kill,partition [--workload register]
      [--nodes 3|5] [--transport grpc|rest] [--store rocksdb|sqlite]
      [--security plain|tls|mtls|secret] [--snapshot-every N --snapshot-keep N]
      [--build build] [--out build/faults]
Whatever is not given is chosen by the seed; the report directory's replay.txt holds the
line that repeats the run with every choice spelled out.

  --short NAME   one of the CI runs (SHORT_RUNS below), as CTest runs it
  --long         the long matrix (LONG_JOBS), round after round, for --hours
  --trust        the planted bugs, on a build configured with -DSYNOD_PLANT_BUGS=ON
                 (--build); each must be caught

Exit status: 0 every checker passed, 1 a checker found a violation, 3 a checker could not
decide (never a pass), 2 the harness itself failed. With --expect-violation, 0 when a
violation was found and 1 when none was.
"""
import argparse
import json
import os
import random
import shlex
import sys
import tempfile
import time
import urllib.error
import urllib.request

sys.dont_write_bytecode = True
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

import checkers  # noqa: E402
import report  # noqa: E402
from cluster import Cluster  # noqa: E402
from nemesis import ALL_FAULTS, Nemesis  # noqa: E402
from workloads import WORKLOADS, History  # noqa: E402

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
PATIENCE_S = 90

# synod-kv's own snapshot policy, under which a run takes no snapshot.
DEFAULT_SNAPSHOTS = dict(snapshot_every=10_000, snapshot_keep=1_000)

# The CI mix: a few minutes in all, every workload, transport, store and fault covered,
# with and without compacted logs.
SHORT_RUNS = {
    "register": dict(seed=101, duration=40, workload="register", nodes=3, transport="grpc",
                     store="rocksdb", security="tls", mix="kill,pause,partition,power",
                     **DEFAULT_SNAPSHOTS),
    "append": dict(seed=202, duration=40, workload="append", nodes=5, transport="rest",
                   store="sqlite", security="secret", mix="partition,clock,wipe",
                   snapshot_every=10, snapshot_keep=2),
    "mixed": dict(seed=303, duration=40, workload="register", nodes=5, transport="rest",
                  store="rocksdb", security="plain", mix="kill,partition,disk",
                  snapshot_every=50, snapshot_keep=10),
}

# The long mode's jobs (Kommander's nightly matrix, and the clock, disk and power jobs).
LONG_JOBS = [
    ("register", "partition"), ("register", "kill"), ("register", "pause"),
    ("register", "kill,pause,partition"), ("append", "partition"), ("append", "kill"),
    ("append", "pause"), ("append", "kill,pause,partition"), ("register", "power"),
    ("register", "clock,partition"), ("append", "disk,kill"), ("append", "wipe,partition"),
    ("register", "wipe,pause"), ("append", "all"), ("register", "all"),
]

# Planted bugs (core/raft/src/planted_bugs.h) and runs whose faults expose them.
TRUST_RUNS = {
    "commit-without-quorum": dict(workload="append", nodes=5, mix="partition,kill"),
    "read-without-quorum": dict(workload="register", nodes=3, mix="partition,pause"),
    "apply-uncommitted": dict(workload="append", nodes=5, mix="partition"),
}


def resolve(args):
    """The run's configuration: the given knobs, the rest drawn from the seed (always in
    the same order, so that fixing one knob does not change the others)."""
    rng = random.Random(args.seed)
    drawn = dict(workload=rng.choice(["register", "append"]), nodes=rng.choice([3, 5]),
                 transport=rng.choice(["grpc", "rest"]), store=rng.choice(["rocksdb", "sqlite"]),
                 security=rng.choice(["plain", "plain", "tls", "mtls", "secret"]),
                 mix=",".join(sorted(rng.sample(ALL_FAULTS, rng.randrange(1, 4)))))
    # Half the runs compact their logs all the time (a snapshot every few entries), so
    # lagging, restarted and wiped nodes install snapshots.
    compacted = rng.random() < 0.5
    small = dict(snapshot_every=rng.choice([10, 50]), snapshot_keep=rng.choice([2, 20]))
    config = {k: getattr(args, k) if getattr(args, k) is not None else v for k, v in drawn.items()}
    mix = ALL_FAULTS if config["mix"] == "all" else tuple(
        f for f in config["mix"].split(",") if f and f != "none")
    unknown = [f for f in mix if f not in ALL_FAULTS]
    if unknown:
        raise SystemExit(f"harness: unknown faults {unknown}; known: {', '.join(ALL_FAULTS)}")
    # A wiped node is to rejoin by snapshots.
    snapshots = small if compacted or "wipe" in mix else DEFAULT_SNAPSHOTS
    for k, v in snapshots.items():
        config[k] = getattr(args, k) if getattr(args, k) is not None else v
    config.update(seed=args.seed, duration=args.duration, mix=list(mix), partitions=3,
                  planted_bug=args.planted_bug, clients=2 * config["nodes"], rate=args.rate,
                  # Registers: short-lived keys keep each key's linearizability search
                  # small even with many indeterminate writes.
                  **(dict(keys=5, ops_per_key=60) if config["workload"] == "register"
                     else dict(keys=3, ops_per_key=600)))
    return config


def read_text(path):
    try:
        with open(path, errors="replace") as f:
            return f.read()
    except OSError:
        return ""


def replay_line(config, args):
    parts = [os.path.relpath(os.path.abspath(__file__), REPO), "--seed", str(config["seed"]),
             "--duration", str(config["duration"]), "--workload", config["workload"],
             "--nodes", str(config["nodes"]), "--transport", config["transport"],
             "--store", config["store"], "--security", config["security"],
             "--mix", ",".join(config["mix"]) or "none", "--rate", str(config["rate"]),
             "--snapshot-every", str(config["snapshot_every"]),
             "--snapshot-keep", str(config["snapshot_keep"]),
             "--build", args.build]
    if config["planted_bug"]:
        parts += ["--planted-bug", config["planted_bug"]]
    return " ".join(shlex.quote(p) for p in parts)


def http(method, url, body=None, timeout=5):
    try:
        req = urllib.request.Request(url, data=body, method=method)
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read()
    except urllib.error.HTTPError as e:
        return e.code, e.read()
    except OSError:
        return 0, b""


def until(condition, patience=PATIENCE_S):
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(0.3)
    return None


def final_reads(cluster, history, workload, keys):
    """Linearizable reads of every key once healed, recorded as operations of a client of
    their own (so a lost write with no later read is still seen). Returns key -> value
    (None: absent), and the keys whose read never succeeded."""
    result, failed = {}, []
    kind = "list" if workload == "append" else "kv"
    for key in keys:
        def attempt():
            for node in cluster.nodes:
                invoked = history.now()
                status, body = http("GET", f"{node.url}/{kind}/{key}")
                if status in (200, 404):
                    value = body.decode() if status == 200 else None
                    if kind == "list":
                        value = value.split("\n")[:-1]
                    history.record({"client": -1, "node": node.id, "f": "read", "key": key,
                                    "invoked": invoked, "completed": history.now(),
                                    "outcome": "ok", "value": value})
                    return (value,)
            return None
        got = until(attempt)
        if got:
            result[key] = got[0]
        else:
            failed.append(key)
    return result, failed


def converged_lists(cluster, keys):
    """node -> key -> the list it applied, once every node shows the same lists (or, after
    the patience runs out, as they are)."""
    def snapshot():
        lists = {}
        for node in cluster.nodes:
            lists[node.id] = {}
            for key in keys:
                status, body = http("GET", f"{node.url}/list/{key}?local=1")
                lists[node.id][key] = body.decode().split("\n")[:-1] if status == 200 else None
        return lists

    last = {}

    def agree():
        last.update(snapshot())
        return len({json.dumps(l, sort_keys=True) for l in last.values()}) == 1

    until(agree, patience=PATIENCE_S / 2)
    return {n: {k: v or [] for k, v in lists.items()} for n, lists in last.items()}


class Phases:
    """How long each phase of a run took, for the report."""

    def __init__(self):
        self.last = time.monotonic()
        self.took = []

    def mark(self, name):
        now = time.monotonic()
        self.took.append(f"{name} {now - self.last:.1f}")
        self.last = now

    def text(self):
        return ", ".join(self.took)


def run(config, args):
    """One run. Returns (exit status, report directory, figures: operations by outcome and
    faults by kind)."""
    stamp = time.strftime("%Y%m%d-%H%M%S")
    name = f"{stamp}-{config['workload']}-seed{config['seed']}"
    if config["planted_bug"]:
        name += "-" + config["planted_bug"]
    report_dir = os.path.join(args.out, name)
    os.makedirs(report_dir, exist_ok=True)
    binary = os.path.join(args.build, "examples", "kv", "synod-kv")
    lincheck = os.path.join(args.build, "tests", "faults", "synod-lincheck")
    for path in (binary, lincheck):
        if not os.access(path, os.X_OK):
            print(f"harness: {path} is missing; build the synod-kv and synod-lincheck targets",
                  file=sys.stderr)
            return 2, report_dir, {}
    replay = replay_line(config, args)
    with open(os.path.join(report_dir, "replay.txt"), "w") as f:
        f.write(replay + "\n")
    with open(os.path.join(report_dir, "config.json"), "w") as f:
        json.dump(config, f, indent=1, sort_keys=True)
    print(f"harness: {replay}\nharness: report in {report_dir}", flush=True)

    workdir = tempfile.mkdtemp(prefix="synod-faults-")
    cluster = Cluster(config, binary, workdir, report_dir)
    history = History(os.path.join(report_dir, "history.jsonl"), time.monotonic_ns())
    results = []
    failed_to_run = None
    phases = Phases()
    try:
        cluster.start()
        if not cluster.wait_ready(PATIENCE_S):
            failed_to_run = "the cluster elected no leader for every partition"
        else:
            phases.mark("start")
            workload = WORKLOADS[config["workload"]](cluster, history, config["seed"] ^ 0x5eed, config)
            nemesis = Nemesis(cluster, history, config["seed"] ^ 0xfa17, config["mix"])
            workload.start()
            nemesis.start()
            time.sleep(config["duration"])
            nemesis.finish()
            workload.finish()
            phases.mark("workload")
            cluster.heal_all()
            if nemesis.errors:
                failed_to_run = "the nemesis failed: " + "; ".join(nemesis.errors)
            recovered = cluster.wait_ready(PATIENCE_S)
            phases.mark("recovery")
            keys = sorted(workload.key_uses)
            reads, missing = final_reads(cluster, history, config["workload"], keys)
            results.append(checkers.verdict(
                "recovered", [f"no final read of {k} succeeded" for k in missing] +
                ([] if recovered else ["a partition has no leader after healing"]),
                f"every partition led and every key read within {PATIENCE_S} s of healing"))
            phases.mark("final reads")
            ops = history.ops
            if config["workload"] == "register":
                results.append(checkers.check_register(
                    ops, lincheck, os.path.join(report_dir, "lincheck-input.tsv"), args.max_steps))
            else:
                lists = converged_lists(cluster, keys)
                phases.mark("convergence")
                results += checkers.check_append(ops, lists, reads)
            phases.mark("checks")
    finally:
        history.close()
        cluster.close(keep_data=args.keep_data)
        phases.mark("stop")

    # A node that could not take its port leaves the run without meaning: whatever else
    # listened there may have answered for it.
    unbound = [n.id for n in cluster.nodes if "cannot listen" in read_text(n.log_path)]
    if unbound and not failed_to_run:
        failed_to_run = (f"node {', '.join(map(str, unbound))} could not listen on its port; "
                         "the run's verdicts are void")
    if failed_to_run:
        results.append({"checker": "harness", "valid": False, "detail": failed_to_run, "offending": []})
    faults = [e for e in history.nemesis if e["stage"] == "end"]
    title = (f"{config['workload']} seed {config['seed']}: {config['nodes']} nodes, "
             f"{config['transport']}, {config['store']}, {config['security']}, "
             f"snapshots every {config['snapshot_every']} keeping {config['snapshot_keep']}, "
             f"faults {','.join(config['mix']) or 'none'}")
    report.plot(history.ops, faults, config["duration"], os.path.join(report_dir, "plot.svg"), title)
    with open(os.path.join(report_dir, "results.json"), "w") as f:
        json.dump(results, f, indent=1, default=str)
    lines = [f"run: {title}", f"replay: {replay}",
             f"operations: {len(history.ops)} ("
             + ", ".join(f"{k} {sum(1 for o in history.ops if o['outcome'] == k)}"
                         for k in ("ok", "info", "fail")) + f"); faults: {len(faults)}",
             "seconds: " + phases.text()]
    for r in results:
        mark = {True: "PASS", False: "FAIL"}.get(r["valid"], "UNKNOWN")
        lines.append(f"{mark:7} {r['checker']}: {r['detail']}")
        for o in r["offending"]:
            lines.append("          " + (json.dumps(o, sort_keys=True) if isinstance(o, dict) else str(o)))
    text = "\n".join(lines) + "\n"
    with open(os.path.join(report_dir, "report.txt"), "w") as f:
        f.write(text)
    print(text, end="", flush=True)
    valid = [r["valid"] for r in results]
    status = 1 if False in valid else 3 if "unknown" in valid else 0
    figures = {"ops": {k: sum(1 for o in history.ops if o["outcome"] == k) for k in ("ok", "info", "fail")},
               "faults": {}}
    for f in faults:
        figures["faults"][f["nemesis"]] = figures["faults"].get(f["nemesis"], 0) + 1
    return status, report_dir, figures


def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter,
                                epilog=__doc__.split("\n", 1)[1])
    p.add_argument("--seed", type=int, default=None)
    p.add_argument("--duration", type=float, default=60, help="seconds of workload and faults")
    p.add_argument("--mix", help="comma-separated faults, 'all' or 'none'; "
                                 f"known: {', '.join(ALL_FAULTS)}")
    p.add_argument("--workload", choices=sorted(WORKLOADS))
    p.add_argument("--nodes", type=int, choices=[3, 5])
    p.add_argument("--transport", choices=["grpc", "rest"])
    p.add_argument("--store", choices=["rocksdb", "sqlite"])
    p.add_argument("--security", choices=["plain", "tls", "mtls", "secret"])
    p.add_argument("--snapshot-every", type=int, help="synod-kv --snapshot-every (default: drawn)")
    p.add_argument("--snapshot-keep", type=int, help="synod-kv --snapshot-keep (default: drawn)")
    p.add_argument("--rate", type=float, default=60, help="target operations per second, all clients")
    p.add_argument("--max-steps", type=int, default=10_000_000,
                   help="linearizability search budget per key")
    p.add_argument("--planted-bug", choices=sorted(TRUST_RUNS))
    p.add_argument("--expect-violation", action="store_true")
    p.add_argument("--build", default=os.path.join(REPO, "build"))
    p.add_argument("--out", default=None, help="where report directories go (default BUILD/faults)")
    p.add_argument("--keep-data", action="store_true", help="keep the nodes' data directories")
    p.add_argument("--short", choices=sorted(SHORT_RUNS))
    p.add_argument("--long", action="store_true")
    p.add_argument("--hours", type=float, default=1.0, help="--long: how long in all")
    p.add_argument("--job-seconds", type=float, default=180, help="--long: each job's duration")
    p.add_argument("--trust", action="store_true")
    p.add_argument("--attempts", type=int, default=4, help="--trust: runs per bug at most")
    args = p.parse_args(argv)
    args.build = os.path.abspath(args.build)
    args.out = os.path.abspath(args.out or os.path.join(args.build, "faults"))
    return args


def main(argv):
    args = parse_args(argv)
    if args.short:
        for k, v in SHORT_RUNS[args.short].items():
            setattr(args, k, v)
        return run(resolve(args), args)[0]
    if args.long:
        return long_mode(args)
    if args.trust:
        return trust_mode(args)
    if args.seed is None:
        args.seed = random.SystemRandom().randrange(1, 1_000_000)
    status = run(resolve(args), args)[0]
    if args.expect_violation:
        return 0 if status == 1 else 1
    return status


def long_mode(args):
    """LONG_JOBS round after round, seeds from --seed, until --hours have passed; a summary
    line per job, and the totals, in OUT/long-*-summary.txt. Fails if any job did not
    pass."""
    base = args.seed if args.seed is not None else random.SystemRandom().randrange(1, 1_000_000)
    summary_path = os.path.join(args.out, f"long-{time.strftime('%Y%m%d-%H%M%S')}-summary.txt")
    os.makedirs(args.out, exist_ok=True)
    deadline = time.monotonic() + args.hours * 3600
    failures, job = 0, 0
    ops, faults = {}, {}
    while time.monotonic() < deadline:
        workload, mix = LONG_JOBS[job % len(LONG_JOBS)]
        job_args = parse_args(["--build", args.build, "--out", args.out])
        job_args.seed, job_args.duration = base + job, args.job_seconds
        job_args.workload, job_args.mix = workload, mix
        status, report_dir, figures = run(resolve(job_args), job_args)
        failures += status != 0
        for total, counts in ((ops, figures.get("ops", {})), (faults, figures.get("faults", {}))):
            for k, v in counts.items():
                total[k] = total.get(k, 0) + v
        with open(summary_path, "a") as f:
            f.write(f"{'PASS' if status == 0 else 'FAIL(%d)' % status} {report_dir} "
                    f"{json.dumps(figures, sort_keys=True)}\n")
        job += 1
    totals = (f"harness: {job} jobs, {failures} failed; operations "
              f"{json.dumps(ops, sort_keys=True)} ({sum(ops.values())}); faults "
              f"{json.dumps(faults, sort_keys=True)} ({sum(faults.values())})")
    with open(summary_path, "a") as f:
        f.write(totals + "\n")
    print(f"{totals}\nharness: summary in {summary_path}")
    return 1 if failures else 0


def trust_mode(args):
    """Each planted bug, under faults that expose it, until a checker catches it or
    --attempts runs have passed. Fails unless every bug is caught."""
    base = args.seed if args.seed is not None else 1
    caught_all = True
    lines = []
    for bug, knobs in TRUST_RUNS.items():
        caught = None
        for attempt in range(args.attempts):
            a = parse_args(["--build", args.build, "--out", args.out])
            a.seed, a.duration, a.planted_bug = base + attempt, args.duration, bug
            for k, v in knobs.items():
                setattr(a, k, v)
            status, report_dir, _ = run(resolve(a), a)
            if status == 1:
                caught = report_dir
                break
        caught_all &= caught is not None
        lines.append(f"{bug}: " + (f"CAUGHT, see {caught}/report.txt" if caught else
                                   f"NOT CAUGHT in {args.attempts} runs"))
    print("\n".join(["harness: planted bugs"] + lines))
    return 0 if caught_all else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
