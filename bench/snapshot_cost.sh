#!/usr/bin/env bash
# What snapshotting costs under load: runs the same synod-bench workload with snapshots off
# (--snapshot-every 0) and on, alternating (off/on, then on/off, ...) so that a drift of the
# machine during the run weighs on both alike, and prints throughput and CPU time per
# commit of each run, then their medians and the ratio on/off.
#
# Usage: bench/snapshot_cost.sh [--bench PATH] [--rounds N] [--every N] [-- synod-bench args]
#   --bench PATH  the synod-bench binary (default: build/bench/node/synod-bench)
#   --rounds N    pairs of runs (default 3)
#   --every N     --snapshot-every of the "on" runs (default: synod-bench's own)
#   after --       the workload (default: --store rocksdb --partitions 8 --outstanding 1024
#                  --duration 10 --warmup 2)
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
bench="$repo_root/build/bench/node/synod-bench"
rounds=3
every=()
workload=(--store rocksdb --partitions 8 --outstanding 1024 --duration 10 --warmup 2)
while [[ $# -gt 0 ]]; do
  case "$1" in
    --bench) bench="$2"; shift 2 ;;
    --rounds) rounds="$2"; shift 2 ;;
    --every) every=(--snapshot-every "$2"); shift 2 ;;
    --) shift; workload=("$@"); break ;;
    *) echo "usage: $0 [--bench PATH] [--rounds N] [--every N] [-- synod-bench args]" >&2; exit 2 ;;
  esac
done

# One run; prints "<commits/s> <cpu us per commit> <snapshots saved>".
run() {
  local out
  out="$("$bench" "${workload[@]}" "$@")" || { echo "$out" >&2; return 1; }
  awk '
    /^throughput:/ { rate = $2; commits = substr($4, 2) }
    /^cpu:/ { cpu = $2 }
    /^            node [0-9]+: .* saved,/ { saved += $3 }
    END {
      if (commits == "" || cpu == "") exit 1
      printf "%.0f %.2f %d\n", rate, cpu * 1e6 / commits, saved
    }' <<<"$out"
}

median() { sort -g | awk '{ v[NR] = $1 } END { print (NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2) }'; }

echo "snapshot cost: $bench ${workload[*]}"
echo "               on: ${every[*]:-the default --snapshot-every}; $rounds rounds of off/on, alternating the order"
printf '%-6s %-4s %12s %16s %10s\n' round mode "commits/s" "cpu us/commit" snapshots
off_rate=() off_cpu=() on_rate=() on_cpu=()
for ((i = 1; i <= rounds; i++)); do
  order=(off on)
  ((i % 2 == 0)) && order=(on off)
  for mode in "${order[@]}"; do
    if [[ $mode == off ]]; then
      read -r rate cpu saved < <(run --snapshot-every 0)
      off_rate+=("$rate") off_cpu+=("$cpu")
    else
      read -r rate cpu saved < <(run "${every[@]}")
      on_rate+=("$rate") on_cpu+=("$cpu")
    fi
    printf '%-6s %-4s %12s %16s %10s\n' "$i" "$mode" "$rate" "$cpu" "$saved"
  done
done

m_off_rate=$(printf '%s\n' "${off_rate[@]}" | median)
m_on_rate=$(printf '%s\n' "${on_rate[@]}" | median)
m_off_cpu=$(printf '%s\n' "${off_cpu[@]}" | median)
m_on_cpu=$(printf '%s\n' "${on_cpu[@]}" | median)
echo "medians:"
printf '  off: %.0f commits/s, %.2f cpu us/commit\n' "$m_off_rate" "$m_off_cpu"
printf '  on:  %.0f commits/s, %.2f cpu us/commit\n' "$m_on_rate" "$m_on_cpu"
awk -v a="$m_on_rate" -v b="$m_off_rate" -v c="$m_on_cpu" -v d="$m_off_cpu" \
  'BEGIN { printf "  on/off: throughput x%.3f, cpu per commit x%.3f\n", a / b, c / d }'
