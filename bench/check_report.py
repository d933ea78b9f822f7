#!/usr/bin/env python3
"""Checks what a benchmark's --report DIR holds: report.json with a positive throughput, a
latency distribution and a throughput curve, and the two SVG plots gnuplot drew.

    bench/check_report.py DIR
"""
import json
import os
import sys


def main():
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    d = sys.argv[1]
    with open(os.path.join(d, "report.json")) as f:
        report = json.load(f)
    figures = report["figures"]
    problems = []
    if figures["throughput"]["value"] <= 0:
        problems.append("no throughput")
    if not report["latency_ns_buckets"] or sum(n for _, n in report["latency_ns_buckets"]) != figures["committed"]["value"]:
        problems.append("the latency buckets do not count every commit")
    if not report["throughput"]["commits_per_s"]:
        problems.append("no throughput curve")
    if figures["cpu per commit"]["value"] <= 0:
        problems.append("no CPU per commit")
    for plot in ("latency.svg", "throughput.svg"):
        with open(os.path.join(d, plot)) as f:
            if "<svg" not in f.read():
                problems.append(f"{plot} is not an SVG")
    if problems:
        raise SystemExit("check_report: " + "; ".join(problems))
    print(f"check_report: {d}: {figures['throughput']['value']:.0f} commits/s, "
          f"{len(report['throughput']['commits_per_s'])} curve points, plots drawn")


if __name__ == "__main__":
    main()
