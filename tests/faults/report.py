"""The plot of a run, drawn as SVG by hand (no plotting library): throughput per second
by outcome above, every operation's latency (log scale) below, fault intervals shaded
across both, as Jepsen draws them."""
import math
from html import escape

COLORS = {"ok": "#3b6fb6", "info": "#f0a030", "fail": "#d0406a"}
FAULT_COLORS = ["#e8d5f5", "#d5ecf5", "#f5e3d5", "#d9f5d5", "#f5f0c8", "#f5d5dc"]
W, LEFT, RIGHT = 1100, 70, 20
TOP_H, BOTTOM_H, GAP, MARGIN = 220, 300, 50, 40
MAX_POINTS = 20000


def plot(ops, faults, duration_s, path, title):
    width = W - LEFT - RIGHT
    end_s = max([duration_s] + [op["completed"] / 1e9 for op in ops] + [f["end"] / 1e9 for f in faults])
    x = lambda t: LEFT + width * t / end_s  # noqa: E731
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{W}" height="{MARGIN * 2 + TOP_H + GAP + BOTTOM_H + 40}" '
           'font-family="sans-serif" font-size="11">',
           f'<rect width="100%" height="100%" fill="white"/>',
           f'<text x="{LEFT}" y="20" font-size="14">{escape(title)}</text>']
    top0, bottom0 = MARGIN, MARGIN + TOP_H + GAP
    total_h = TOP_H + GAP + BOTTOM_H
    kinds = sorted({f["nemesis"] for f in faults})
    for f in faults:
        color = FAULT_COLORS[kinds.index(f["nemesis"]) % len(FAULT_COLORS)]
        x0, x1 = x(f["start"] / 1e9), x(f["end"] / 1e9)
        out.append(f'<rect x="{x0:.1f}" y="{top0}" width="{max(1, x1 - x0):.1f}" height="{total_h}" '
                   f'fill="{color}" opacity="0.8"><title>{escape(f["what"])}</title></rect>')
    for i, k in enumerate(kinds):
        lx = LEFT + 150 * i
        out.append(f'<rect x="{lx}" y="{top0 + total_h + 22}" width="12" height="12" '
                   f'fill="{FAULT_COLORS[i % len(FAULT_COLORS)]}"/>'
                   f'<text x="{lx + 16}" y="{top0 + total_h + 32}">{escape(k)}</text>')

    # Throughput: completed operations per second, by outcome.
    seconds = int(math.ceil(end_s)) or 1
    counts = {k: [0] * seconds for k in COLORS}
    for op in ops:
        counts[op["outcome"]][min(seconds - 1, int(op["completed"] / 1e9))] += 1
    peak = max([1] + [c for series in counts.values() for c in series])
    y_top = lambda v: top0 + TOP_H - TOP_H * v / peak  # noqa: E731
    out += axes(top0, TOP_H, width, end_s, f"ops/s (max {peak})")
    for kind, series in counts.items():
        points = " ".join(f"{x(s + 0.5):.1f},{y_top(v):.1f}" for s, v in enumerate(series))
        out.append(f'<polyline points="{points}" fill="none" stroke="{COLORS[kind]}" stroke-width="1.5"/>')
    for i, kind in enumerate(COLORS):
        out.append(f'<text x="{W - RIGHT - 160 + 55 * i}" y="{top0 - 6}" fill="{COLORS[kind]}">{kind}</text>')

    # Latency: one dot per operation at its completion, log scale from 0.1 ms to 100 s.
    lo, hi = math.log10(0.1), math.log10(100_000)
    y_lat = lambda ms: bottom0 + BOTTOM_H - BOTTOM_H * (math.log10(max(ms, 0.1)) - lo) / (hi - lo)  # noqa: E731
    out += axes(bottom0, BOTTOM_H, width, end_s, "latency (ms, log)")
    for decade in range(-1, 6):
        y = y_lat(10 ** decade)
        out.append(f'<line x1="{LEFT}" x2="{LEFT + width}" y1="{y:.1f}" y2="{y:.1f}" stroke="#ddd"/>'
                   f'<text x="{LEFT - 6}" y="{y + 4:.1f}" text-anchor="end">{10 ** decade:g}</text>')
    step = max(1, len(ops) // MAX_POINTS)
    for op in ops[::step]:
        ms = (op["completed"] - op["invoked"]) / 1e6
        out.append(f'<circle cx="{x(op["completed"] / 1e9):.1f}" cy="{y_lat(ms):.1f}" r="1.3" '
                   f'fill="{COLORS[op["outcome"]]}" fill-opacity="0.6"/>')
    out.append("</svg>")
    with open(path, "w") as f:
        f.write("\n".join(out) + "\n")


def axes(y0, height, width, end_s, label):
    out = [f'<line x1="{LEFT}" x2="{LEFT}" y1="{y0}" y2="{y0 + height}" stroke="black"/>',
           f'<line x1="{LEFT}" x2="{LEFT + width}" y1="{y0 + height}" y2="{y0 + height}" stroke="black"/>',
           f'<text x="{LEFT}" y="{y0 - 6}">{escape(label)}</text>']
    tick = max(1, int(end_s / 12))
    for t in range(0, int(end_s) + 1, tick):
        tx = LEFT + width * t / end_s
        out.append(f'<line x1="{tx:.1f}" x2="{tx:.1f}" y1="{y0 + height}" y2="{y0 + height + 4}" stroke="black"/>'
                   f'<text x="{tx:.1f}" y="{y0 + height + 15}" text-anchor="middle">{t}s</text>')
    return out
