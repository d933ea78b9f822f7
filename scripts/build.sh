#!/usr/bin/env bash
# Usage: scripts/build.sh <build-dir> [extra cmake args...] [-- targets...]
# Configures the project with Ninja into <build-dir> and builds it (or only the targets
# after --) with -j2.
# CMAKE_BUILD_TYPE defaults to RelWithDebInfo unless given among the extra args.
set -euo pipefail

if [[ $# -lt 1 || "$1" == -* ]]; then
  echo "usage: $0 <build-dir> [extra cmake args...] [-- targets...]" >&2
  exit 2
fi

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
build_dir="$1"
shift
cmake_args=()
targets=()
while [[ $# -gt 0 ]]; do
  if [[ "$1" == "--" ]]; then
    shift
    targets=(--target "$@")
    break
  fi
  cmake_args+=("$1")
  shift
done
set -- "${cmake_args[@]}"

build_type_args=(-DCMAKE_BUILD_TYPE=RelWithDebInfo)
for arg in "$@"; do
  if [[ "$arg" == -DCMAKE_BUILD_TYPE=* || "$arg" == -DCMAKE_BUILD_TYPE:*=* ]]; then
    build_type_args=()
  fi
done

# Debian's interpreter sees Debian's pytest and pybind11; another python3 may be
# first on PATH. --no-warn-unused-cli: not every configuration reads Python3_EXECUTABLE.
cmake -S "$repo_root" -B "$build_dir" -G Ninja \
  --no-warn-unused-cli \
  "${build_type_args[@]}" \
  -DPython3_EXECUTABLE=/usr/bin/python3 \
  "$@"

cmake --build "$build_dir" -j2 "${targets[@]}"
