#!/usr/bin/env bash
# The project's demo command (README): installs dependencies, builds build/ and runs the
# synod-kv demo: three key-value server processes on 127.0.0.1 talking gRPC; writes and
# linearizable reads, compare-and-set, SIGKILL of a leader, re-election, no acknowledged
# write lost, restart of the killed node; then everything stops.
set -euo pipefail

cd "$(dirname "${BASH_SOURCE[0]}")/.."

./scripts/setup.sh
./scripts/build.sh build

server=build/examples/kv/synod-kv
if [[ ! -x "$server" ]]; then
  echo "demo.sh: $server was not built (is SYNOD_BUILD_EXAMPLES off in build/?)" >&2
  exit 1
fi
echo
echo "== running examples/kv/demo.py $server"
exec /usr/bin/python3 examples/kv/demo.py "$server"
